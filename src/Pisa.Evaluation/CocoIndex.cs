using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation;

/// <summary>
/// Ground truth and detections checked and grouped for evaluation: image and category ids mapped to dense
/// indices in ascending id order, and annotations and detections ordered by (category, image) with two stable
/// bucket sorts, so each category's images come out contiguous and in ascending id order — the order the
/// accumulation needs. Annotations enter the bucket sorts in file order and keep it; detections enter them ranked
/// by score (highest first, equal scores in file order), so they come out ranked within each (image, category).
/// </summary>
internal sealed class CocoIndex
{
    private CocoIndex(long[] imageIds, long[] categoryIds, int[] annotationImage, int[] annotationCategory,
        int[] annotationOrder, int[] detectionImage, int[] detectionCategory, int[] detectionOrder)
    {
        ImageIds = imageIds;
        CategoryIds = categoryIds;
        AnnotationImage = annotationImage;
        AnnotationCategory = annotationCategory;
        AnnotationOrder = annotationOrder;
        DetectionImage = detectionImage;
        DetectionCategory = detectionCategory;
        DetectionOrder = detectionOrder;
    }

    /// <summary>Image ids, ascending; the position is the image index.</summary>
    public long[] ImageIds { get; }

    /// <summary>Category ids, ascending; the position is the category index.</summary>
    public long[] CategoryIds { get; }

    /// <summary>Image index of each annotation, [annotations].</summary>
    public int[] AnnotationImage { get; }

    /// <summary>Category index of each annotation, [annotations].</summary>
    public int[] AnnotationCategory { get; }

    /// <summary>Annotation indices sorted by (category, image, file order).</summary>
    public int[] AnnotationOrder { get; }

    /// <summary>Image index of each detection, [detections].</summary>
    public int[] DetectionImage { get; }

    /// <summary>Category index of each detection, [detections].</summary>
    public int[] DetectionCategory { get; }

    /// <summary>Detection indices sorted by (category, image, score descending, file order).</summary>
    public int[] DetectionOrder { get; }

    /// <summary>Checks both inputs and groups them; throws <see cref="CocoFormatException"/> naming the source and the entry.</summary>
    public static CocoIndex Build(CocoDataset groundTruth, IReadOnlyList<CocoDetection> detections, string groundTruthName, string detectionsName)
    {
        if (groundTruth.Images is null) throw new CocoFormatException(groundTruthName, "missing \"images\" list");
        if (groundTruth.Categories is null) throw new CocoFormatException(groundTruthName, "missing \"categories\" list");
        var annotations = groundTruth.Annotations ?? [];

        var (imageIds, imageIndex) = AscendingIds(groundTruth.Images.Count, i => groundTruth.Images[i]?.Id, "images", groundTruthName);
        var (categoryIds, categoryIndex) = AscendingIds(groundTruth.Categories.Count, i => groundTruth.Categories[i]?.Id, "categories", groundTruthName);

        var (annotationImage, annotationCategory) = IndexAnnotations(annotations, imageIndex, categoryIndex, groundTruthName);
        var (detectionImage, detectionCategory) = IndexDetections(detections, imageIndex, categoryIndex, detectionsName, groundTruthName);
        int[] annotationOrder = GroupByCategoryThenImage(FileOrder(annotations.Count), annotationImage, annotationCategory, imageIds.Length, categoryIds.Length);
        int[] detectionOrder = GroupByCategoryThenImage(ScoreOrder(detections), detectionImage, detectionCategory, imageIds.Length, categoryIds.Length);
        return new CocoIndex(imageIds, categoryIds, annotationImage, annotationCategory, annotationOrder,
            detectionImage, detectionCategory, detectionOrder);
    }

    /// <summary>Image and category index of each annotation, [annotations] each, after checking every annotation.</summary>
    private static (int[] Image, int[] Category) IndexAnnotations(IReadOnlyList<CocoAnnotation> annotations,
        Dictionary<long, int> imageIndex, Dictionary<long, int> categoryIndex, string source)
    {
        var image = new int[annotations.Count];
        var category = new int[annotations.Count];
        var rowOfId = new Dictionary<long, int>(annotations.Count);
        for (int i = 0; i < annotations.Count; i++)
        {
            var annotation = annotations[i] ?? throw new CocoFormatException(source, $"annotations[{i}] is null");
            // The entry's name is only built for an error message: no allocation per annotation.
            string? problem =
                !rowOfId.TryAdd(annotation.Id, i) ? $"annotation id {annotation.Id} is also used by annotations[{rowOfId[annotation.Id]}]"
                : !imageIndex.TryGetValue(annotation.ImageId, out image[i]) ? $"image_id {annotation.ImageId} is not in \"images\""
                : !categoryIndex.TryGetValue(annotation.CategoryId, out category[i]) ? $"category_id {annotation.CategoryId} is not in \"categories\""
                : BoxProblem(annotation.Bbox)
                ?? (!double.IsFinite(annotation.Area) || annotation.Area < 0 ? $"area {annotation.Area} must be a finite number >= 0"
                : annotation.IsCrowd is not (0 or 1) ? $"iscrowd {annotation.IsCrowd} must be 0 or 1"
                : null);
            if (problem is not null) throw new CocoFormatException(source, $"annotations[{i}] (id {annotation.Id}): {problem}");
        }
        return (image, category);
    }

    /// <summary>Image and category index of each detection, [detections] each, after checking every detection.</summary>
    private static (int[] Image, int[] Category) IndexDetections(IReadOnlyList<CocoDetection> detections,
        Dictionary<long, int> imageIndex, Dictionary<long, int> categoryIndex, string source, string groundTruthName)
    {
        var image = new int[detections.Count];
        var category = new int[detections.Count];
        for (int i = 0; i < detections.Count; i++)
        {
            var detection = detections[i] ?? throw new CocoFormatException(source, $"entry {i} of the list is null");
            string? problem =
                !imageIndex.TryGetValue(detection.ImageId, out image[i]) ? $"image_id {detection.ImageId} is not an image of the ground truth {groundTruthName}"
                : !categoryIndex.TryGetValue(detection.CategoryId, out category[i]) ? $"category_id {detection.CategoryId} is not a category of the ground truth {groundTruthName}"
                : BoxProblem(detection.Bbox)
                ?? (!double.IsFinite(detection.Score) ? $"score {detection.Score} is not a finite number" : null);
            if (problem is not null)
                throw new CocoFormatException(source, $"entry {i} of the list (image_id {detection.ImageId}, category_id {detection.CategoryId}): {problem}");
        }
        return (image, category);
    }

    /// <summary>The ids of a list sorted ascending, and the map id → position in that sorted order; duplicates are errors.</summary>
    private static (long[] Ids, Dictionary<long, int> Index) AscendingIds(int count, Func<int, long?> idAt, string list, string source)
    {
        var ids = new long[count];
        var row = new Dictionary<long, int>(count);
        for (int i = 0; i < count; i++)
        {
            long id = idAt(i) ?? throw new CocoFormatException(source, $"{list}[{i}] is null");
            if (!row.TryAdd(id, i))
                throw new CocoFormatException(source, $"{list}[{i}]: id {id} is also used by {list}[{row[id]}]");
            ids[i] = id;
        }
        Array.Sort(ids);
        var index = new Dictionary<long, int>(count);
        for (int i = 0; i < count; i++) index[ids[i]] = i;
        return (ids, index);
    }

    /// <summary>
    /// What is wrong with a box, or null: it must be four finite numbers with width and height &gt;= 0 (zero-size boxes
    /// overlap nothing) whose corners and area are finite too.
    /// </summary>
    private static string? BoxProblem(double[]? box)
    {
        if (box is not { Length: 4 }) return "\"bbox\" must be [x, y, w, h]";
        if (!double.IsFinite(box[0]) || !double.IsFinite(box[1]) || !double.IsFinite(box[2]) || !double.IsFinite(box[3]))
            return $"bbox [{string.Join(", ", box)}] holds a value that is not a finite number";
        if (box[2] < 0) return $"bbox width {box[2]} is negative";
        if (box[3] < 0) return $"bbox height {box[3]} is negative";
        // Overflowing corners or area would turn overlaps into NaN, which would then compare as a match.
        if (!double.IsFinite(box[0] + box[2]) || !double.IsFinite(box[1] + box[3]) || !double.IsFinite(box[2] * box[3]))
            return $"bbox [{string.Join(", ", box)}] is too large to evaluate";
        return null;
    }

    /// <summary>
    /// <paramref name="rows"/> reordered by (category, image), keeping their given order within each (category, image):
    /// a stable bucket sort by image, then one by category.
    /// </summary>
    private static int[] GroupByCategoryThenImage(int[] rows, int[] image, int[] category, int imageCount, int categoryCount) =>
        StableBucketSort(StableBucketSort(rows, image, imageCount), category, categoryCount);

    private static int[] FileOrder(int count)
    {
        var rows = new int[count];
        for (int i = 0; i < count; i++) rows[i] = i;
        return rows;
    }

    /// <summary>Detection rows by score, highest first, equal scores in file order: the ranking within each image once grouped.</summary>
    private static int[] ScoreOrder(IReadOnlyList<CocoDetection> detections)
    {
        var scores = new double[detections.Count];
        for (int i = 0; i < scores.Length; i++) scores[i] = detections[i].Score;
        var rows = new int[scores.Length];
        StableScoreSort.Sort(scores, new double[scores.Length], rows);
        return rows;
    }

    /// <summary>Counting sort of <paramref name="rows"/> by <c>bucket[row]</c> in [0, bucketCount), keeping the input order within a bucket.</summary>
    private static int[] StableBucketSort(int[] rows, int[] bucket, int bucketCount)
    {
        var start = new int[bucketCount + 1];
        foreach (int row in rows) start[bucket[row] + 1]++;
        for (int b = 0; b < bucketCount; b++) start[b + 1] += start[b];
        var sorted = new int[rows.Length];
        foreach (int row in rows) sorted[start[bucket[row]]++] = row;
        return sorted;
    }
}
