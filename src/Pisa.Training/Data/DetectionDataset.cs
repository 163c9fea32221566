using Pisa.Evaluation.Coco;
using Pisa.Training.Data.Shapes;

namespace Pisa.Training.Data;

/// <summary>
/// A detection data set held in memory: decoded images with boxes (x1y1x2y2, original pixels) and contiguous labels.
/// Built from a COCO instances file and an image folder (<see cref="FromCoco"/>) or generated (<see cref="Open"/> with
/// <c>builtin:shapes</c>). Images are decoded once, at load, so a bad file stops the run before training.
/// </summary>
public sealed class DetectionDataset(
    string name, CategoryMap categories, IReadOnlyList<DetectionEntry> entries, CocoDataset groundTruth, IReadOnlyList<string> warnings)
{
    /// <summary>Boxes may overhang the image by this many pixels (rounding in annotation tools); they are clipped.</summary>
    public const float BoxTolerance = 1f;

    public string Name { get; } = name;
    public CategoryMap Categories { get; } = categories;
    public IReadOnlyList<DetectionEntry> Entries { get; } = entries;

    /// <summary>The kept images and annotations as COCO records, in original coordinates and ids, for the evaluator.</summary>
    public CocoDataset GroundTruth { get; } = groundTruth;

    /// <summary>What <c>skipBad</c> skipped, one line per image or annotation, naming file and id.</summary>
    public IReadOnlyList<string> Warnings { get; } = warnings;

    public int Count => Entries.Count;

    /// <summary>
    /// <c>builtin:shapes</c> (generated, <paramref name="shapes"/> options) or the path of a COCO instances file whose
    /// images live in <paramref name="imageDirectory"/> (default: beside the file's folder, in a folder named after
    /// <paramref name="split"/>).
    /// </summary>
    public static DetectionDataset Open(string source, ShapesSplit split, ShapesOptions? shapes = null, string? imageDirectory = null, bool skipBad = false)
    {
        if (source == ShapesOptions.SourceName) return ShapesDataset.Load(shapes ?? new ShapesOptions(), split);
        if (source.StartsWith("builtin:", StringComparison.Ordinal))
            throw new DatasetException(source, [$"unknown built-in data set '{source}' (known: {ShapesOptions.SourceName})"]);
        string images = imageDirectory ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(source)))!, ShapesDataset.SplitName(split));
        return FromCoco(source, images, skipBad);
    }

    /// <summary>
    /// Reads a COCO instances file and decodes its images. Every problem (missing or corrupt image, size mismatch,
    /// box outside the image or not positive, unknown category or image id) is collected: without
    /// <paramref name="skipBad"/> they are thrown together as a <see cref="DatasetException"/>; with it, bad images
    /// are dropped with their annotations, bad annotations alone, and each becomes a <see cref="Warnings"/> line.
    /// </summary>
    /// <exception cref="CocoFormatException">The file is not COCO JSON.</exception>
    public static DetectionDataset FromCoco(string instancesPath, string imageDirectory, bool skipBad = false)
    {
        var coco = CocoJson.ReadDataset(instancesPath);
        var problems = new List<string>();
        var categories = ReadCategories(coco, instancesPath, problems);
        var images = DecodeImages(coco, instancesPath, imageDirectory, problems, out var badImages);
        var annotations = coco.Annotations.ToLookup(a => a.ImageId);
        foreach (var orphan in coco.Annotations.Where(a => !images.ContainsKey(a.ImageId) && !badImages.Contains(a.ImageId)))
            problems.Add($"{instancesPath}: annotation {orphan.Id}: image_id {orphan.ImageId} is not in \"images\"");

        var entries = new List<DetectionEntry>();
        var keptImages = new List<CocoImage>();
        var keptAnnotations = new List<CocoAnnotation>();
        foreach (var image in coco.Images)
        {
            if (!images.TryGetValue(image.Id, out var pixels)) continue;
            var boxes = new List<BoxXyxy>();
            var labels = new List<int>();
            var crowd = new List<BoxXyxy>();
            foreach (var annotation in annotations[image.Id])
            {
                string? problem = CheckAnnotation(annotation, image, categories);
                if (problem is not null)
                {
                    problems.Add($"{instancesPath}: annotation {annotation.Id} (image {image.Id}, {image.FileName}): {problem}");
                    continue;
                }
                var box = BoxXyxy.FromXywh(annotation.Bbox[0], annotation.Bbox[1], annotation.Bbox[2], annotation.Bbox[3]).ClipTo(image.Width, image.Height);
                if (annotation.IsCrowd != 0) crowd.Add(box);
                else
                {
                    boxes.Add(box);
                    labels.Add(categories.LabelOf(annotation.CategoryId));
                }
                keptAnnotations.Add(annotation);
            }
            keptImages.Add(image);
            entries.Add(new DetectionEntry(image.Id, image.FileName, pixels, boxes, labels, crowd));
        }

        if (problems.Count > 0 && !skipBad) throw new DatasetException(instancesPath, problems);
        var groundTruth = new CocoDataset(keptImages, coco.Categories, keptAnnotations) { Info = coco.Info };
        return new DetectionDataset(instancesPath, categories, entries, groundTruth, problems);
    }

    private static CategoryMap ReadCategories(CocoDataset coco, string path, List<string> problems)
    {
        var duplicates = coco.Categories.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        // Duplicate category ids make labels ambiguous even for the good annotations: never skippable.
        if (duplicates.Count > 0)
            throw new DatasetException(path, duplicates.Select(id => $"{path}: category id {id} is listed more than once").ToList());
        if (coco.Categories.Count == 0) throw new DatasetException(path, [$"{path}: \"categories\" is empty"]);
        return new CategoryMap(coco.Categories);
    }

    private static Dictionary<long, RgbImage> DecodeImages(
        CocoDataset coco, string path, string imageDirectory, List<string> problems, out HashSet<long> badImages)
    {
        var duplicateIds = coco.Images.GroupBy(i => i.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var decoded = new RgbImage?[coco.Images.Count];
        var imageProblems = new string?[coco.Images.Count];
        Parallel.For(0, coco.Images.Count, i =>
        {
            var image = coco.Images[i];
            string file = Path.Combine(imageDirectory, image.FileName);
            if (duplicateIds.Contains(image.Id))
                imageProblems[i] = $"{path}: image id {image.Id} is listed more than once";
            else if ((decoded[i] = ImageCodec.TryDecode(file, out string? problem)) is null)
                imageProblems[i] = $"{file}: image {image.Id}: {problem}";
            else if (decoded[i]!.Width != image.Width || decoded[i]!.Height != image.Height)
                imageProblems[i] = $"{file}: image {image.Id}: the file is {decoded[i]!.Width}x{decoded[i]!.Height}, the instances file says {image.Width}x{image.Height}";
        });
        var images = new Dictionary<long, RgbImage>();
        badImages = [];
        for (int i = 0; i < coco.Images.Count; i++)
        {
            if (imageProblems[i] is string problem)
            {
                problems.Add(problem);
                badImages.Add(coco.Images[i].Id);
            }
            else images[coco.Images[i].Id] = decoded[i]!;
        }
        return images;
    }

    /// <summary>Why an annotation cannot be used, or null when it can.</summary>
    private static string? CheckAnnotation(CocoAnnotation annotation, CocoImage image, CategoryMap categories)
    {
        if (!categories.TryGetLabel(annotation.CategoryId, out _))
            return $"unknown category_id {annotation.CategoryId}";
        double[] b = annotation.Bbox;
        if (b.Any(v => !double.IsFinite(v))) return $"bbox [{string.Join(", ", b)}] is not finite";
        if (b[2] <= 0 || b[3] <= 0) return $"bbox [{Format(b)}] has a non-positive width or height";
        if (b[0] < -BoxTolerance || b[1] < -BoxTolerance || b[0] + b[2] > image.Width + BoxTolerance || b[1] + b[3] > image.Height + BoxTolerance)
            return $"bbox [{Format(b)}] lies outside the {image.Width}x{image.Height} image";
        return null;
    }

    private static string Format(double[] values) => string.Join(", ", values.Select(v => v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)));
}
