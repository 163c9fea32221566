using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using SkiaSharp;

namespace Pisa.Training.Inference;

/// <summary>
/// An image with its detections drawn on it, as a PNG: each box outlined in its class's colour, and above it (inside
/// when there is no room) a label "class 0.87" on a filled box of the same colour. Images whose short side is under
/// <see cref="ReadableSide"/> px are first enlarged by a whole factor (nearest neighbour) so labels stay readable on
/// 128 px scenes; boxes are drawn at the enlarged coordinates. Lower scores are drawn first, so the best box is on top.
/// </summary>
public static class DetectionDrawing
{
    /// <summary>Images are enlarged until their short side reaches at least this (by a whole factor).</summary>
    public const int ReadableSide = 512;

    /// <summary>Outline width in output pixels.</summary>
    public const float LineWidth = 2;

    /// <summary>Label text size in output pixels.</summary>
    public const float TextSize = 14;

    // Distinct, saturated colours for the first classes (Trubetskoy's 20-colour list, its most distinct ten first).
    private static readonly SKColor[] Palette =
    [
        new(230, 25, 75), new(60, 180, 75), new(0, 130, 200), new(245, 130, 48), new(145, 30, 180),
        new(70, 240, 240), new(240, 50, 230), new(210, 245, 60), new(255, 225, 25), new(0, 128, 128),
        new(170, 110, 40), new(128, 0, 0), new(0, 0, 128), new(128, 128, 0), new(250, 190, 212),
    ];

    /// <summary>The colour of class label <paramref name="label"/> (0..C-1): the palette, then golden-angle hues.</summary>
    public static SKColor ColourOf(int label) =>
        label < Palette.Length ? Palette[label] : SKColor.FromHsv((float)(label * 137.508 % 360), 85, 95);

    /// <summary>The whole enlargement factor for an image of this size (1 when its short side is already readable).</summary>
    public static int ScaleFor(int width, int height) => Math.Max(1, (ReadableSide + Math.Min(width, height) - 1) / Math.Min(width, height));

    /// <summary>Draws <paramref name="detections"/> (original pixel coordinates, category ids of <paramref name="categories"/>) on <paramref name="image"/>.</summary>
    public static SKBitmap Draw(RgbImage image, IEnumerable<CocoDetection> detections, CategoryMap categories)
    {
        int scale = ScaleFor(image.Width, image.Height);
        var bitmap = Enlarged(image, scale);
        using var canvas = new SKCanvas(bitmap);
        using var font = new SKFont(LabelTypeface.Value, TextSize);
        foreach (var detection in detections.OrderBy(d => d.Score))
        {
            int label = categories.LabelOf(detection.CategoryId);
            var box = SKRect.Create((float)detection.Bbox[0] * scale, (float)detection.Bbox[1] * scale, (float)detection.Bbox[2] * scale, (float)detection.Bbox[3] * scale);
            DrawBox(canvas, box, ColourOf(label));
            DrawLabel(canvas, font, box, FormattableString.Invariant($"{categories.NameOf(label)} {detection.Score:0.00}"), ColourOf(label), bitmap.Width);
        }
        return bitmap;
    }

    /// <summary>Draws and writes a PNG (to a temporary name, then renamed).</summary>
    public static void WritePng(string path, RgbImage image, IEnumerable<CocoDetection> detections, CategoryMap categories)
    {
        using var bitmap = Draw(image, detections, categories);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        string temp = path + ".tmp";
        using (var stream = File.Create(temp)) data.SaveTo(stream);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Black or white, whichever reads better on <paramref name="background"/> (by its luma).</summary>
    public static SKColor TextColourOn(SKColor background) =>
        0.299 * background.Red + 0.587 * background.Green + 0.114 * background.Blue > 150 ? SKColors.Black : SKColors.White;

    private static SKBitmap Enlarged(RgbImage image, int scale)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width * scale, image.Height * scale, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        int outWidth = image.Width * scale;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < outWidth; x++)
            {
                int from = 3 * ((y / scale) * image.Width + x / scale), to = 4 * (y * outWidth + x);
                pixels[to] = image.Pixels[from];
                pixels[to + 1] = image.Pixels[from + 1];
                pixels[to + 2] = image.Pixels[from + 2];
                pixels[to + 3] = 255;
            }
        return bitmap;
    }

    private static void DrawBox(SKCanvas canvas, SKRect box, SKColor colour)
    {
        // Inset by half the line so the outline covers the box's own edge pixels, inside the box.
        using var paint = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = LineWidth, IsAntialias = false };
        canvas.DrawRect(SKRect.Inflate(box, -LineWidth / 2, -LineWidth / 2), paint);
    }

    private static void DrawLabel(SKCanvas canvas, SKFont font, SKRect box, string text, SKColor colour, int imageWidth)
    {
        float width = font.MeasureText(text) + 6, height = TextSize + 4;
        float left = Math.Clamp(box.Left, 0, Math.Max(0, imageWidth - width));
        float top = box.Top - height >= 0 ? box.Top - height : box.Top;
        using var fill = new SKPaint { Color = colour, Style = SKPaintStyle.Fill };
        canvas.DrawRect(SKRect.Create(left, top, width, height), fill);
        using var ink = new SKPaint { Color = TextColourOn(colour), IsAntialias = true };
        canvas.DrawText(text, left + 3, top + height - 5, SKTextAlign.Left, font, ink);
    }

    /// <summary>
    /// The label font: Skia's default, or when that has no glyphs (Linux without fontconfig, as SkiaSharp's
    /// NoDependencies build runs) the first DejaVu / Liberation sans font file found under the usual font folders.
    /// </summary>
    private static readonly Lazy<SKTypeface> LabelTypeface = new(() =>
    {
        var typeface = SKTypeface.Default;
        if (typeface.GlyphCount > 0) return typeface;
        string[] candidates =
        [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
        ];
        foreach (string file in candidates.Where(File.Exists))
            if (SKTypeface.FromFile(file) is { GlyphCount: > 0 } fromFile) return fromFile;
        return typeface;
    });
}
