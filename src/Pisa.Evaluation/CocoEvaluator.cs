using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation;

/// <summary>
/// COCO-style bbox evaluation with the reference evaluator's conventions (<c>src/Pisa.Evaluation/README.md</c>):
/// the one implementation behind <c>pisa eval</c> and the runner's evaluation.
/// </summary>
public static class CocoEvaluator
{
    /// <summary>
    /// Evaluates detections against ground truth. Every listed image and category is evaluated, with or without
    /// annotations or detections. One deliberate difference from the reference: a ground truth whose annotation id
    /// is 0 is matched like any other (the reference can never match it).
    /// </summary>
    /// <param name="groundTruth">Images, categories and annotations; ids need not be contiguous nor sorted.</param>
    /// <param name="detections">Results in file order (the order settles exact score ties).</param>
    /// <param name="groundTruthName">How errors name the ground truth, e.g. its file path.</param>
    /// <param name="detectionsName">How errors name the detections, e.g. the results file path.</param>
    /// <exception cref="CocoFormatException">Bad input: duplicate ids, unknown image or category ids, a box that is not four
    /// finite numbers with width and height &gt;= 0, a non-finite score or area, iscrowd other than 0 or 1. The message
    /// names the source and the entry.</exception>
    public static CocoEvaluation Evaluate(CocoDataset groundTruth, IReadOnlyList<CocoDetection> detections,
        string groundTruthName = "ground truth", string detectionsName = "detections")
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(detections);
        var index = CocoIndex.Build(groundTruth, detections, groundTruthName, detectionsName);
        var annotations = groundTruth.Annotations ?? [];
        int categories = index.CategoryIds.Length;
        var precision = new double[CocoEvaluation.PrecisionLength(categories)];
        var recall = new double[CocoEvaluation.RecallLength(categories)];

        var matcher = new ImageMatcher();
        var accumulator = new CategoryAccumulator();
        var gtRuns = new Runs(index.AnnotationOrder, index.AnnotationCategory, index.AnnotationImage);
        var detRuns = new Runs(index.DetectionOrder, index.DetectionCategory, index.DetectionImage);
        for (int k = 0; k < categories; k++)
        {
            accumulator.Clear();
            // Images with neither ground truth nor detections of this category contribute nothing, so only the images
            // present in either run are visited, in ascending id order.
            while (true)
            {
                int gtImage = gtRuns.NextImage(k), detImage = detRuns.NextImage(k);
                if (gtImage < 0 && detImage < 0) break;
                int image = gtImage < 0 ? detImage : detImage < 0 ? gtImage : Math.Min(gtImage, detImage);
                var gtRows = gtImage == image ? gtRuns.Take() : default;
                var detRows = detImage == image ? detRuns.Take() : default;
                if (detRows.Length > CocoEvalParameters.MaxDetectionsEvaluated) detRows = detRows[..CocoEvalParameters.MaxDetectionsEvaluated];

                accumulator.AddGroundTruths(gtRows, annotations);
                accumulator.ReserveImage(detRows.Length, out var truePositive, out var ignored);
                matcher.Match(gtRows, detRows, annotations, detections, truePositive, ignored);
                accumulator.CommitImage(detRows, detections);
            }
            accumulator.Accumulate(k, precision, recall);
        }
        return new CocoEvaluation(index.CategoryIds, precision, recall);
    }

    /// <summary>A cursor over rows sorted by (category, image) that hands out one (category, image) run at a time.</summary>
    private sealed class Runs(int[] order, int[] category, int[] image)
    {
        private int _next;

        /// <summary>The image index of the next run if it belongs to category <paramref name="k"/>, else -1.</summary>
        public int NextImage(int k) => _next < order.Length && category[order[_next]] == k ? image[order[_next]] : -1;

        /// <summary>The rows of the next run, advancing past it.</summary>
        public ReadOnlySpan<int> Take()
        {
            int begin = _next, first = order[begin];
            while (_next < order.Length && category[order[_next]] == category[first] && image[order[_next]] == image[first]) _next++;
            return order.AsSpan(begin, _next - begin);
        }
    }
}
