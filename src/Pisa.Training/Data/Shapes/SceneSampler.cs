using SkiaSharp;

namespace Pisa.Training.Data.Shapes;

/// <summary>
/// Draws a random <see cref="SceneLayout"/>. Classes depend on shape only: object and distractor colours come from
/// one distribution, so colour never tells a class (or an object from a distractor).
/// </summary>
public static class SceneSampler
{
    private const int ObjectKinds = (int)ItemKind.Cross + 1;

    /// <summary>The seed of image <paramref name="index"/> of a split: a SplitMix64 hash, stable across .NET versions.</summary>
    public static int ImageSeed(int datasetSeed, ShapesSplit split, int index)
    {
        ulong z = ((ulong)(uint)datasetSeed << 32) ^ ((ulong)split << 28) ^ (uint)index;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    public static SceneLayout Sample(Random rng, ShapesOptions options)
    {
        var items = new List<SceneItem>();
        int objectCount = rng.Next(options.MinObjects, options.MaxObjects + 1);
        while (items.Count < objectCount)
        {
            int left = objectCount - items.Count;
            if (left >= 2 && rng.NextDouble() < options.ClusterProbability)
                items.AddRange(Cluster(rng, options, count: rng.Next(2, Math.Min(4, left) + 1)));
            else
                items.Add(RandomObject(rng, options, (ItemKind)rng.Next(ObjectKinds), size: ObjectSize(rng, options.MinObjectSize, options.MaxObjectSize)));
        }
        Shuffle(rng, items);
        int distractors = rng.Next(options.MaxDistractors + 1);
        for (int i = 0; i < distractors; i++)
            items.Insert(rng.Next(items.Count + 1), RandomDistractor(rng, options));
        return new SceneLayout(options.ImageSize, RandomBackground(rng), items, RandomJitter(rng));
    }

    /// <summary>Objects of one class and similar size around a point, close enough to overlap (where prime samples matter).</summary>
    private static IEnumerable<SceneItem> Cluster(Random rng, ShapesOptions options, int count)
    {
        var kind = (ItemKind)rng.Next(ObjectKinds);
        float size = ObjectSize(rng, options.MinObjectSize, options.MaxObjectSize * 0.7f);
        float cx = Uniform(rng, 0.2f, 0.8f) * options.ImageSize, cy = Uniform(rng, 0.2f, 0.8f) * options.ImageSize;
        for (int i = 0; i < count; i++)
        {
            float s = Math.Clamp(size * Uniform(rng, 0.85f, 1.15f), options.MinObjectSize, options.MaxObjectSize);
            var item = RandomObject(rng, options, kind, s);
            yield return item with { Cx = cx + Gaussian(rng) * 0.5f * s, Cy = cy + Gaussian(rng) * 0.5f * s };
        }
    }

    private static SceneItem RandomObject(Random rng, ShapesOptions options, ItemKind kind, float size)
    {
        // Centres may sit near the border, so some objects are cut by the frame (their box is the visible part).
        float margin = size * 0.3f;
        float cx = Uniform(rng, margin, options.ImageSize - margin), cy = Uniform(rng, margin, options.ImageSize - margin);
        float rotation = kind switch
        {
            ItemKind.Circle or ItemKind.Ring => 0,
            // Squares and crosses stay near upright so they never turn into diamonds and X's.
            ItemKind.Square or ItemKind.Cross => Uniform(rng, -15, 15),
            _ => Uniform(rng, 0, 360),
        };
        var (fill, fill2) = RandomFill(rng);
        return new SceneItem(kind, cx, cy, size, rotation, fill, fill2, 0);
    }

    private static SceneItem RandomDistractor(Random rng, ShapesOptions options)
    {
        var kind = (ItemKind)rng.Next((int)ItemKind.Line, (int)ItemKind.Arc + 1);
        float cx = Uniform(rng, 0, options.ImageSize), cy = Uniform(rng, 0, options.ImageSize);
        var (fill, fill2) = RandomFill(rng);
        return kind switch
        {
            ItemKind.Line => new SceneItem(kind, cx, cy, Uniform(rng, 20, options.ImageSize * 0.8f), Uniform(rng, 0, 180), fill, fill, Uniform(rng, 1.5f, 4f)),
            ItemKind.Arc => new SceneItem(kind, cx, cy, LogUniform(rng, 12, 60), Uniform(rng, 0, 360), fill, fill, Uniform(rng, 60, 200)),
            _ => new SceneItem(kind, cx, cy, LogUniform(rng, 10, 50), Uniform(rng, 0, 360), fill, fill2, rng.Next()),
        };
    }

    /// <summary>Vivid or dark colours, so items stand out from the muted backgrounds; a third get a gradient.</summary>
    private static (SKColor Fill, SKColor Fill2) RandomFill(Random rng)
    {
        float hue = Uniform(rng, 0, 360);
        bool dark = rng.NextDouble() < 0.2;
        float saturation = Uniform(rng, 55, 100), value = dark ? Uniform(rng, 5, 25) : Uniform(rng, 60, 100);
        var fill = SKColor.FromHsv(hue, saturation, value);
        if (rng.NextDouble() >= 1.0 / 3) return (fill, fill);
        var fill2 = SKColor.FromHsv((hue + Uniform(rng, -40, 40) + 360) % 360, saturation, Math.Clamp(value + Uniform(rng, -20, 20), 5, 100));
        return (fill, fill2);
    }

    private static Background RandomBackground(Random rng)
    {
        var kind = (BackgroundKind)rng.Next(3);
        float hue = Uniform(rng, 0, 360);
        var baseColour = SKColor.FromHsv(hue, Uniform(rng, 0, 30), Uniform(rng, 35, 70));
        var second = SKColor.FromHsv((hue + Uniform(rng, -60, 60) + 360) % 360, Uniform(rng, 0, 30), Uniform(rng, 35, 70));
        return new Background(kind, baseColour, second, Uniform(rng, 0.02f, 0.12f), Uniform(rng, 0, 180), rng.Next(1 << 20));
    }

    private static PhotometricJitter RandomJitter(Random rng) => new(
        Contrast: Uniform(rng, 0.8f, 1.2f), Brightness: Uniform(rng, -20, 20),
        GainR: Uniform(rng, 0.93f, 1.07f), GainG: Uniform(rng, 0.93f, 1.07f), GainB: Uniform(rng, 0.93f, 1.07f),
        NoiseAmplitude: Uniform(rng, 0, 6), NoiseSeed: rng.Next());

    private static float Uniform(Random rng, float low, float high) => low + (float)rng.NextDouble() * (high - low);

    /// <summary>
    /// An object extent with √extent uniform: about one object in five is under 16 px with the 8-80 px defaults
    /// (log-uniform would make it one in three and the task far slower to learn), the median is 35 px.
    /// </summary>
    private static float ObjectSize(Random rng, float low, float high)
    {
        float root = Uniform(rng, MathF.Sqrt(low), MathF.Sqrt(high));
        return root * root;
    }

    private static float LogUniform(Random rng, float low, float high) => MathF.Exp(Uniform(rng, MathF.Log(low), MathF.Log(high)));

    /// <summary>Standard normal by Box-Muller.</summary>
    private static float Gaussian(Random rng) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));

    private static void Shuffle<T>(Random rng, List<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
