using SkiaSharp;

namespace Pisa.Training.Data.Shapes;

/// <summary>
/// Turns a <see cref="SceneLayout"/> into pixels (anti-aliased) and into an owner map (aliased: which item covers
/// each pixel centre), from which the annotations are read. Deterministic for a given layout.
/// </summary>
public static class SceneRenderer
{
    /// <summary>Owner-map value of pixels no item covers.</summary>
    public const int BackgroundOwner = -1;

    private const int NoiseDownscale = 4;

    public static RgbImage Render(SceneLayout layout)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(layout.Size, layout.Size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            DrawBackground(canvas, layout);
            foreach (var item in layout.Items) DrawItem(canvas, item);
        }
        return ApplyJitter(bitmap, layout);
    }

    /// <summary>
    /// For each pixel (row-major), the index in <see cref="SceneLayout.Items"/> of the topmost item covering its centre,
    /// or <see cref="BackgroundOwner"/>. Items are drawn without anti-aliasing, so coverage is all-or-nothing.
    /// </summary>
    public static int[] OwnerMap(SceneLayout layout) => OwnerMap(layout, Enumerable.Range(0, layout.Items.Count));

    /// <summary>How many pixel centres item <paramref name="index"/> covers when drawn alone.</summary>
    public static int PixelsCoveredAlone(SceneLayout layout, int index) =>
        OwnerMap(layout, [index]).Count(owner => owner == index);

    private static int[] OwnerMap(SceneLayout layout, IEnumerable<int> drawOrder)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(layout.Size, layout.Size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill, BlendMode = SKBlendMode.Src })
        {
            canvas.Clear(SKColors.Black);
            foreach (int index in drawOrder)
            {
                // Owner index + 1 in red and green (low, high byte): 0 stays "background".
                int code = index + 1;
                paint.Color = new SKColor((byte)(code & 0xFF), (byte)(code >> 8), 0, 255);
                using var path = ItemPath(layout.Items[index]);
                canvas.DrawPath(path, paint);
            }
        }
        var pixels = bitmap.GetPixelSpan();
        var owners = new int[layout.Size * layout.Size];
        for (int p = 0; p < owners.Length; p++) owners[p] = pixels[4 * p] + (pixels[4 * p + 1] << 8) - 1;
        return owners;
    }

    private static void DrawBackground(SKCanvas canvas, SceneLayout layout)
    {
        var bg = layout.Background;
        canvas.Clear(bg.Base);
        using var paint = new SKPaint { IsAntialias = true };
        switch (bg.Kind)
        {
            case BackgroundKind.Noise:
                // Perlin noise costs ~4 ms per 128² image: render it at a quarter of the size and scale it up smoothly.
                int small = Math.Max(1, layout.Size / NoiseDownscale);
                using (var noise = new SKBitmap(small, small))
                {
                    using (var noiseCanvas = new SKCanvas(noise))
                    using (var noisePaint = new SKPaint { Shader = SKShader.CreatePerlinNoiseFractalNoise(bg.Frequency * NoiseDownscale, bg.Frequency * NoiseDownscale, 3, bg.Seed) })
                        noiseCanvas.DrawRect(0, 0, small, small, noisePaint);
                    using var image = SKImage.FromBitmap(noise);
                    paint.Color = paint.Color.WithAlpha(70);
                    canvas.DrawImage(image, new SKRect(0, 0, layout.Size, layout.Size), new SKSamplingOptions(SKFilterMode.Linear), paint);
                }
                break;
            case BackgroundKind.Gradient:
                var (from, to) = GradientEnds(layout.Size / 2f, layout.Size / 2f, layout.Size, bg.Angle);
                paint.Shader = SKShader.CreateLinearGradient(from, to, [bg.Base, bg.Second], SKShaderTileMode.Clamp);
                canvas.DrawRect(0, 0, layout.Size, layout.Size, paint);
                break;
            case BackgroundKind.Stripes:
                paint.Color = bg.Second;
                paint.StrokeWidth = 2 + bg.Frequency * 30;
                canvas.Save();
                canvas.RotateDegrees(bg.Angle, layout.Size / 2f, layout.Size / 2f);
                float spacing = paint.StrokeWidth * 2.5f;
                for (float x = -layout.Size; x < 2 * layout.Size; x += spacing)
                    canvas.DrawLine(x, -layout.Size, x, 2 * layout.Size, paint);
                canvas.Restore();
                break;
        }
    }

    private static void DrawItem(SKCanvas canvas, SceneItem item)
    {
        using var path = ItemPath(item);
        using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill, Color = item.Fill };
        if (item.Fill2 != item.Fill)
        {
            var (from, to) = GradientEnds(item.Cx, item.Cy, item.Size, item.Rotation);
            paint.Shader = SKShader.CreateLinearGradient(from, to, [item.Fill, item.Fill2], SKShaderTileMode.Clamp);
        }
        canvas.DrawPath(path, paint);
    }

    private static (SKPoint From, SKPoint To) GradientEnds(float cx, float cy, float length, float angleDegrees)
    {
        float a = angleDegrees * MathF.PI / 180, dx = MathF.Cos(a) * length / 2, dy = MathF.Sin(a) * length / 2;
        return (new SKPoint(cx - dx, cy - dy), new SKPoint(cx + dx, cy + dy));
    }

    /// <summary>The item's outline in image coordinates: built around the origin, then rotated and moved to its centre.</summary>
    public static SKPath ItemPath(SceneItem item)
    {
        float r = item.Size / 2;
        var path = item.Kind switch
        {
            ItemKind.Circle => Circle(r),
            ItemKind.Square => Rectangle(r, r),
            ItemKind.Triangle => RegularPolygon(3, r * 1.1f),
            ItemKind.Star => Star(points: 5, outer: r * 1.05f, inner: r * 0.45f),
            ItemKind.Ring => Ring(outer: r, inner: r * 0.55f),
            ItemKind.Cross => Cross(r, armHalfWidth: r * 0.33f),
            ItemKind.Line => Rectangle(r, item.Param / 2),
            ItemKind.Arc => ArcBand(outer: r, inner: r * 0.7f, sweep: item.Param),
            ItemKind.Blob => Blob(r, seed: (int)item.Param),
            _ => throw new ArgumentOutOfRangeException(nameof(item), item.Kind, null),
        };
        var transform = SKMatrix.CreateRotationDegrees(item.Rotation).PostConcat(SKMatrix.CreateTranslation(item.Cx, item.Cy));
        path.Transform(transform);
        return path;
    }

    private static SKPath Circle(float r)
    {
        var path = new SKPath();
        path.AddCircle(0, 0, r);
        return path;
    }

    private static SKPath Rectangle(float halfWidth, float halfHeight)
    {
        var path = new SKPath();
        path.AddRect(new SKRect(-halfWidth, -halfHeight, halfWidth, halfHeight));
        return path;
    }

    private static SKPath RegularPolygon(int sides, float r) =>
        Polygon(Enumerable.Range(0, sides).Select(i => Polar(r, -90 + 360f * i / sides)));

    private static SKPath Star(int points, float outer, float inner) =>
        Polygon(Enumerable.Range(0, 2 * points).Select(i => Polar(i % 2 == 0 ? outer : inner, -90 + 180f * i / points)));

    private static SKPath Ring(float outer, float inner)
    {
        var path = new SKPath { FillType = SKPathFillType.EvenOdd };
        path.AddCircle(0, 0, outer);
        path.AddCircle(0, 0, inner);
        return path;
    }

    private static SKPath Cross(float r, float armHalfWidth)
    {
        var path = new SKPath();
        path.AddRect(new SKRect(-r, -armHalfWidth, r, armHalfWidth));
        path.AddRect(new SKRect(-armHalfWidth, -r, armHalfWidth, r));
        path.FillType = SKPathFillType.Winding;
        return path;
    }

    private static SKPath ArcBand(float outer, float inner, float sweep)
    {
        var path = new SKPath();
        path.ArcTo(new SKRect(-outer, -outer, outer, outer), 0, sweep, forceMoveTo: true);
        path.ArcTo(new SKRect(-inner, -inner, inner, inner), sweep, -sweep, forceMoveTo: false);
        path.Close();
        return path;
    }

    /// <summary>An irregular smooth closed curve: quadratic segments through the midpoints of a jittered polygon.</summary>
    private static SKPath Blob(float r, int seed)
    {
        var rng = new Random(seed);
        var corners = Enumerable.Range(0, 8).Select(i => Polar(r * (0.55f + 0.45f * (float)rng.NextDouble()), 45f * i)).ToArray();
        SKPoint Mid(int i) => new((corners[i].X + corners[(i + 1) % 8].X) / 2, (corners[i].Y + corners[(i + 1) % 8].Y) / 2);
        var path = new SKPath();
        path.MoveTo(Mid(7));
        for (int i = 0; i < 8; i++) path.QuadTo(corners[i], Mid(i));
        path.Close();
        return path;
    }

    private static SKPath Polygon(IEnumerable<SKPoint> points)
    {
        var path = new SKPath();
        path.AddPoly(points.ToArray(), close: true);
        return path;
    }

    private static SKPoint Polar(float r, float degrees) =>
        new(r * MathF.Cos(degrees * MathF.PI / 180), r * MathF.Sin(degrees * MathF.PI / 180));

    private static RgbImage ApplyJitter(SKBitmap bitmap, SceneLayout layout)
    {
        var j = layout.Jitter;
        var rng = new Random(j.NoiseSeed);
        var source = bitmap.GetPixelSpan();
        int n = layout.Size * layout.Size;
        var rgb = new byte[n * 3];
        float[] gains = [j.GainR, j.GainG, j.GainB];
        for (int p = 0; p < n; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                float noise = j.NoiseAmplitude * (float)(rng.NextDouble() * 2 - 1);
                float v = gains[c] * (j.Contrast * (source[4 * p + c] - 128f) + 128f) + j.Brightness + noise;
                rgb[3 * p + c] = (byte)Math.Clamp(MathF.Round(v), 0, 255);
            }
        }
        return new RgbImage(layout.Size, layout.Size, rgb);
    }
}
