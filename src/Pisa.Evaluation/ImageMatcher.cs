using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation;

/// <summary>
/// Greedy matching of the ranked detections of one (image, category) to its ground truths, for every area range
/// and IoU threshold at once. Buffers are reused across calls, so matching allocates nothing once they are large
/// enough. Unlike the reference evaluator, a ground truth whose annotation id is 0 matches like any other: the
/// outcome is kept as flags here, never encoded as "matched annotation id, 0 meaning none".
/// </summary>
internal sealed class ImageMatcher
{
    private static readonly int AreaCount = CocoEvalParameters.AreaRanges.Count;
    private static readonly (double Low, double High)[] AreaBounds = [.. CocoEvalParameters.AreaRanges.Select(CocoEvalParameters.Bounds)];
    private static readonly double[] IouThresholds = [.. CocoEvalParameters.IouThresholds];

    private const ushort AllThresholds = (1 << 10) - 1;

    private double[] _overlaps = new double[256];
    private bool[] _detectionOutside = new bool[CocoEvalParameters.MaxDetectionsEvaluated];
    private int[] _visitOrder = new int[16];
    private bool[] _ignored = new bool[16];
    private bool[] _crowd = new bool[16];
    private bool[] _taken = new bool[16];

    /// <summary>
    /// Matches detections (already ranked, at most <see cref="CocoEvalParameters.MaxDetectionsEvaluated"/>) to ground truths.
    /// For detection d and area range a, bit t of <c>truePositive[d * 4 + a]</c> is set when it matches a non-ignored
    /// ground truth at IoU threshold t, and bit t of <c>ignored[d * 4 + a]</c> when it matches an ignored one (crowd or
    /// out-of-range area) or matches nothing while its own box area lies outside the range; neither bit means a false positive.
    /// </summary>
    /// <param name="groundTruthRows">Annotation rows of the image and category in file order, [G].</param>
    /// <param name="detectionRows">Detection rows ranked by score, [D].</param>
    /// <param name="truePositive">Output, [D * 4], cleared here.</param>
    /// <param name="ignored">Output, [D * 4], cleared here.</param>
    public void Match(ReadOnlySpan<int> groundTruthRows, ReadOnlySpan<int> detectionRows,
        IReadOnlyList<CocoAnnotation> annotations, IReadOnlyList<CocoDetection> detections,
        Span<ushort> truePositive, Span<ushort> ignored)
    {
        int gtCount = groundTruthRows.Length, detCount = detectionRows.Length;
        truePositive[..(detCount * AreaCount)].Clear();
        ignored[..(detCount * AreaCount)].Clear();
        if (detCount == 0) return;
        EnsureCapacity(gtCount, detCount);
        for (int g = 0; g < gtCount; g++) _crowd[g] = annotations[groundTruthRows[g]].IsCrowd == 1;
        ComputeOverlaps(groundTruthRows, detectionRows, annotations, detections);

        for (int a = 0; a < AreaCount; a++)
        {
            var bounds = AreaBounds[a];
            for (int d = 0; d < detCount; d++)
                _detectionOutside[d] = CocoEvalParameters.IsOutside(BoxArea(detections[detectionRows[d]].Bbox), bounds);
            if (gtCount == 0)
            {
                // Nothing to match: every detection is a false positive, or ignored when its own area is out of range.
                for (int d = 0; d < detCount; d++) if (_detectionOutside[d]) ignored[d * AreaCount + a] = AllThresholds;
                continue;
            }
            for (int g = 0; g < gtCount; g++)
                _ignored[g] = _crowd[g] || CocoEvalParameters.IsOutside(annotations[groundTruthRows[g]].Area, bounds);
            OrderNonIgnoredFirst(gtCount);
            for (int t = 0; t < IouThresholds.Length; t++)
            {
                var bit = (ushort)(1 << t);
                Array.Clear(_taken, 0, gtCount);
                for (int d = 0; d < detCount; d++)
                {
                    int match = BestGroundTruth(d, gtCount, IouThresholds[t]);
                    if (match >= 0)
                    {
                        _taken[match] = true;
                        if (_ignored[match]) ignored[d * AreaCount + a] |= bit;
                        else truePositive[d * AreaCount + a] |= bit;
                    }
                    else if (_detectionOutside[d])
                    {
                        ignored[d * AreaCount + a] |= bit;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The partner of detection <paramref name="d"/> at threshold <paramref name="threshold"/>, or -1: the last ground truth
    /// in visit order with the highest overlap &gt;= threshold, skipping taken non-crowds, and not looking at ignored ones
    /// once a non-ignored one qualified (a detection prefers an ordinary object to a crowd or out-of-range one).
    /// </summary>
    private int BestGroundTruth(int d, int gtCount, double threshold)
    {
        double best = threshold;
        int match = -1;
        var overlaps = _overlaps.AsSpan(d * gtCount, gtCount);
        for (int i = 0; i < gtCount; i++)
        {
            int g = _visitOrder[i];
            if (_taken[g] && !_crowd[g]) continue;
            if (match >= 0 && !_ignored[match] && _ignored[g]) break;
            if (overlaps[g] < best) continue;
            best = overlaps[g];
            match = g;
        }
        return match;
    }

    /// <summary>Visit order: non-ignored ground truths in file order, then ignored ones in file order.</summary>
    private void OrderNonIgnoredFirst(int gtCount)
    {
        int next = 0;
        for (int g = 0; g < gtCount; g++) if (!_ignored[g]) _visitOrder[next++] = g;
        for (int g = 0; g < gtCount; g++) if (_ignored[g]) _visitOrder[next++] = g;
    }

    /// <summary>Overlap of every detection with every ground truth, [D, G]: IoU, or intersection over the detection's area for a crowd.</summary>
    private void ComputeOverlaps(ReadOnlySpan<int> groundTruthRows, ReadOnlySpan<int> detectionRows,
        IReadOnlyList<CocoAnnotation> annotations, IReadOnlyList<CocoDetection> detections)
    {
        int gtCount = groundTruthRows.Length;
        for (int d = 0; d < detectionRows.Length; d++)
        {
            double[] box = detections[detectionRows[d]].Bbox;
            for (int g = 0; g < gtCount; g++)
                _overlaps[d * gtCount + g] = Overlap(box, annotations[groundTruthRows[g]].Bbox, _crowd[g]);
        }
    }

    /// <summary>
    /// Overlap of two [x, y, w, h] boxes as the reference computes it, operation for operation, so that exactly equal
    /// overlaps stay exactly equal: intersection / union, or intersection / detection area for a crowd; 0 without overlap.
    /// </summary>
    internal static double Overlap(double[] detection, double[] groundTruth, bool crowd)
    {
        double width = Math.Min(detection[0] + detection[2], groundTruth[0] + groundTruth[2]) - Math.Max(detection[0], groundTruth[0]);
        if (width <= 0) return 0;
        double height = Math.Min(detection[1] + detection[3], groundTruth[1] + groundTruth[3]) - Math.Max(detection[1], groundTruth[1]);
        if (height <= 0) return 0;
        double intersection = width * height;
        double detectionArea = BoxArea(detection);
        double union = crowd ? detectionArea : detectionArea + BoxArea(groundTruth) - intersection;
        return intersection / union;
    }

    private static double BoxArea(double[] box) => box[2] * box[3];

    private void EnsureCapacity(int gtCount, int detCount)
    {
        if (_overlaps.Length < gtCount * detCount) _overlaps = new double[Math.Max(gtCount * detCount, 2 * _overlaps.Length)];
        if (_detectionOutside.Length < detCount) _detectionOutside = new bool[detCount];
        if (_visitOrder.Length >= gtCount) return;
        int size = Math.Max(gtCount, 2 * _visitOrder.Length);
        (_visitOrder, _ignored, _crowd, _taken) = (new int[size], new bool[size], new bool[size], new bool[size]);
    }
}
