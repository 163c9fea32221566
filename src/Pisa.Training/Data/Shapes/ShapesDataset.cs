using Pisa.Evaluation.Coco;

namespace Pisa.Training.Data.Shapes;

/// <summary>One annotated object of a generated scene: its class, its visible box and its visible pixel count.</summary>
public sealed record ShapeAnnotation(ItemKind Kind, BoxXyxy Box, int VisiblePixels);

/// <summary>A generated image with its layout (kept so tests and tools can re-render parts of it).</summary>
public sealed record ShapesImage(long ImageId, string FileName, SceneLayout Layout, RgbImage Image, IReadOnlyList<ShapeAnnotation> Annotations);

/// <summary>
/// The built-in <c>builtin:shapes</c> data set: 128×128 scenes of circles, squares, triangles, stars, rings and crosses
/// on textured backgrounds, with lines, blobs and arcs as distractors that are not objects.
/// <para>Annotation rule: an object is annotated when the pixel centres it visibly owns (topmost, on the aliased owner
/// map) are at least <c>1 - MaxOccludedFraction</c> (30 %) of those it covers when drawn alone in the frame, and their
/// tight box is at least <see cref="MinVisibleSide"/> (3) px wide and high; otherwise it stays drawn but is left out (not a crowd region).
/// The box is the tight box of the visible pixels (pixel edges, so a single pixel at column 5 gives x1 = 5, x2 = 6);
/// <c>area</c> is the visible pixel count, not the box area. Cut-off at the frame counts as truncation, not occlusion.</para>
/// </summary>
public static class ShapesDataset
{
    /// <summary>Visible boxes narrower or lower than this (slivers at the frame or between occluders) are not annotated.</summary>
    public const int MinVisibleSide = 3;

    /// <summary>The six classes, category ids 1..6 in this order.</summary>
    public static IReadOnlyList<CocoCategory> Categories { get; } =
        Enum.GetValues<ItemKind>().Where(k => k <= ItemKind.Cross)
            .Select(k => new CocoCategory((long)k + 1, k.ToString().ToLowerInvariant(), "shape")).ToArray();

    public static long CategoryIdOf(ItemKind kind) => (long)kind + 1;

    public static string SplitName(ShapesSplit split) => split == ShapesSplit.Train ? "train" : "val";

    /// <summary>Generates every image of a split (in parallel; the result does not depend on the thread count).</summary>
    public static IReadOnlyList<ShapesImage> Generate(ShapesOptions options, ShapesSplit split)
    {
        options.Validate();
        var images = new ShapesImage[options.CountOf(split)];
        Parallel.For(0, images.Length, i => images[i] = GenerateImage(options, split, i));
        return images;
    }

    /// <summary>Image <paramref name="index"/> of a split, alone (image ids are index + 1).</summary>
    public static ShapesImage GenerateImage(ShapesOptions options, ShapesSplit split, int index)
    {
        var layout = SceneSampler.Sample(new Random(SceneSampler.ImageSeed(options.Seed, split, index)), options);
        return new ShapesImage(index + 1, $"{index + 1:D6}.png", layout, SceneRenderer.Render(layout), Annotate(layout, options.MaxOccludedFraction));
    }

    /// <summary>The annotated objects of a scene, in drawing order (see the class summary for the rule).</summary>
    public static IReadOnlyList<ShapeAnnotation> Annotate(SceneLayout layout, double maxOccludedFraction)
    {
        int[] owners = SceneRenderer.OwnerMap(layout);
        var annotations = new List<ShapeAnnotation>();
        for (int index = 0; index < layout.Items.Count; index++)
        {
            if (!layout.Items[index].IsObject) continue;
            var (box, visible) = VisibleBox(owners, layout.Size, index);
            if (visible == 0 || box.Width < MinVisibleSide || box.Height < MinVisibleSide) continue;
            int alone = SceneRenderer.PixelsCoveredAlone(layout, index);
            if (visible < (1 - maxOccludedFraction) * alone) continue;
            annotations.Add(new ShapeAnnotation(layout.Items[index].Kind, box, visible));
        }
        return annotations;
    }

    /// <summary>The data set as COCO records (boxes as [x, y, w, h], ids from 1), e.g. for export or evaluation.</summary>
    public static CocoDataset ToCoco(IReadOnlyList<ShapesImage> images, ShapesOptions options, ShapesSplit split)
    {
        var cocoImages = images.Select(i => new CocoImage(i.ImageId, i.FileName, i.Image.Width, i.Image.Height)).ToList();
        var annotations = new List<CocoAnnotation>();
        foreach (var image in images)
            foreach (var a in image.Annotations)
                annotations.Add(new CocoAnnotation(annotations.Count + 1, image.ImageId, CategoryIdOf(a.Kind), a.Box.ToXywh(), a.VisiblePixels, 0));
        return new CocoDataset(cocoImages, Categories, annotations)
        {
            Info = new CocoInfo($"{ShapesOptions.SourceName} {SplitName(split)} (seed {options.Seed})", "1"),
        };
    }

    /// <summary>The split as a <see cref="DetectionDataset"/>, in memory (nothing touches the disk).</summary>
    public static DetectionDataset Load(ShapesOptions options, ShapesSplit split)
    {
        var images = Generate(options, split);
        var categories = new CategoryMap(Categories);
        var entries = images.Select(i => new DetectionEntry(
            i.ImageId, i.FileName, i.Image,
            i.Annotations.Select(a => a.Box).ToArray(),
            i.Annotations.Select(a => categories.LabelOf(CategoryIdOf(a.Kind))).ToArray(),
            [])).ToList();
        return new DetectionDataset($"{ShapesOptions.SourceName}/{SplitName(split)}", categories, entries, ToCoco(images, options, split), []);
    }

    /// <summary>
    /// Writes a split as a COCO data set: <c>{dir}/annotations/instances_{split}.json</c> and
    /// <c>{dir}/{split}/{id:D6}.png</c>. Returns the instances file's path.
    /// </summary>
    public static string Export(string directory, ShapesOptions options, ShapesSplit split)
    {
        var images = Generate(options, split);
        string imageDirectory = Path.Combine(directory, SplitName(split));
        Directory.CreateDirectory(imageDirectory);
        Parallel.ForEach(images, image => ImageCodec.WritePng(Path.Combine(imageDirectory, image.FileName), image.Image));
        string instances = InstancesPath(directory, split);
        CocoJson.WriteDataset(instances, ToCoco(images, options, split));
        return instances;
    }

    public static string InstancesPath(string directory, ShapesSplit split) =>
        Path.Combine(directory, "annotations", $"instances_{SplitName(split)}.json");

    private static (BoxXyxy Box, int Pixels) VisibleBox(int[] owners, int size, int index)
    {
        int x1 = int.MaxValue, y1 = int.MaxValue, x2 = -1, y2 = -1, count = 0;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                if (owners[y * size + x] != index) continue;
                count++;
                (x1, y1, x2, y2) = (Math.Min(x1, x), Math.Min(y1, y), Math.Max(x2, x), Math.Max(y2, y));
            }
        return count == 0 ? (default, 0) : (new BoxXyxy(x1, y1, x2 + 1, y2 + 1), count);
    }
}
