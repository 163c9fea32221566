using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation;

/// <summary>
/// Deterministic COCO-like data for benchmarking the evaluator (<c>pisa eval --synthetic-bench</c>): realistic
/// shapes of work, not realistic images. Each image holds a few objects of random categories, crowds included;
/// detections are jittered copies of them (the matching work) plus random boxes (the false positives).
/// </summary>
public static class SyntheticCoco
{
    /// <summary>Ground truth of <paramref name="images"/> 640×480 images with 1–14 objects each over <paramref name="categories"/> categories.</summary>
    public static CocoDataset GroundTruth(int images, int categories, int seed = 0)
    {
        var random = new Random(seed);
        var imageList = new List<CocoImage>(images);
        var annotations = new List<CocoAnnotation>(images * 8);
        for (int i = 0; i < images; i++)
        {
            // Non-contiguous image ids, as in COCO.
            long imageId = 3 * i + 7;
            imageList.Add(new CocoImage(imageId, $"{imageId:D12}.jpg", 640, 480));
            int objects = random.Next(1, 15);
            for (int o = 0; o < objects; o++)
            {
                double[] box = RandomBox(random);
                double area = box[2] * box[3] * (0.5 + 0.5 * random.NextDouble());
                int crowd = random.Next(50) == 0 ? 1 : 0;
                annotations.Add(new CocoAnnotation(annotations.Count + 1, imageId, CategoryId(random.Next(categories)), box, area, crowd));
            }
        }
        var categoryList = Enumerable.Range(0, categories).Select(k => new CocoCategory(CategoryId(k), $"class_{CategoryId(k)}", "thing")).ToList();
        return new CocoDataset(imageList, categoryList, annotations);
    }

    /// <summary>
    /// <paramref name="perImage"/> detections per image: up to three jittered copies of each object with high scores, the rest
    /// random boxes of random categories with lower scores; scores rounded to 3 decimals so ties occur, as in real results files.
    /// </summary>
    public static IReadOnlyList<CocoDetection> Detections(CocoDataset groundTruth, int perImage, int seed = 1)
    {
        var random = new Random(seed);
        int categories = groundTruth.Categories.Count;
        var byImage = groundTruth.Annotations.ToLookup(a => a.ImageId);
        var detections = new List<CocoDetection>(groundTruth.Images.Count * perImage);
        foreach (var image in groundTruth.Images)
        {
            int made = 0;
            foreach (var annotation in byImage[image.Id])
                for (int copy = 0; copy < 3 && made < perImage; copy++, made++)
                    detections.Add(new CocoDetection(image.Id, annotation.CategoryId, Jitter(annotation.Bbox, random), Score(0.3 + 0.7 * random.NextDouble())));
            for (; made < perImage; made++)
                detections.Add(new CocoDetection(image.Id, CategoryId(random.Next(categories)), RandomBox(random), Score(0.6 * random.NextDouble())));
        }
        return detections;
    }

    private static long CategoryId(int k) => 2 * k + 1;

    private static double Score(double value) => Math.Round(value, 3);

    private static double[] RandomBox(Random random)
    {
        double w = 4 + 300 * random.NextDouble() * random.NextDouble(), h = 4 + 300 * random.NextDouble() * random.NextDouble();
        return [Math.Round(random.NextDouble() * (640 - w), 1), Math.Round(random.NextDouble() * (480 - h), 1), Math.Round(w, 1), Math.Round(h, 1)];
    }

    private static double[] Jitter(double[] box, Random random)
    {
        double Shift(double size) => size * 0.25 * (random.NextDouble() - 0.5);
        return [box[0] + Shift(box[2]), box[1] + Shift(box[3]), box[2] + Shift(box[2]), box[3] + Shift(box[3])];
    }
}
