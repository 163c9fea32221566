namespace Pisa.Evaluation;

/// <summary>
/// The twelve standard COCO bbox numbers. Each is a mean over the categories (and IoU thresholds) where it is
/// defined, or -1 when it is defined nowhere (e.g. <see cref="APs"/> when no ground truth is small).
/// </summary>
public sealed record CocoStats(
    double AP, double AP50, double AP75, double APs, double APm, double APl,
    double AR1, double AR10, double AR100, double ARs, double ARm, double ARl)
{
    /// <summary>The names in the reference evaluator's order, as they appear in <c>expected.json</c>.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

    /// <summary>The values in <see cref="Names"/> order.</summary>
    public IReadOnlyList<double> Values => [AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl];
}

/// <summary>
/// Everything one COCO bbox evaluation produced: the twelve stats, AP per category, and the interpolated
/// precision and final recall per (category, area range, detection limit, IoU threshold) from which they are
/// averaged, so a caller can plot precision–recall curves. -1 marks "undefined" (no non-ignored ground truth).
/// </summary>
public sealed class CocoEvaluation
{
    private static readonly int AreaCount = CocoEvalParameters.AreaRanges.Count;
    private static readonly int LimitCount = CocoEvalParameters.MaxDetections.Count;
    private static readonly int IouCount = CocoEvalParameters.IouThresholds.Count;
    private static readonly int RecallCount = CocoEvalParameters.RecallThresholds.Count;

    private readonly double[] _precision;
    private readonly double[] _recall;
    private readonly Dictionary<long, int> _categoryIndex;

    /// <param name="categoryIds">Category ids in ascending order, length K.</param>
    /// <param name="precision">Interpolated precision, flat [K, A=4, M=3, T=10, R=101].</param>
    /// <param name="recall">Recall after the last detection, flat [K, A=4, M=3, T=10].</param>
    internal CocoEvaluation(long[] categoryIds, double[] precision, double[] recall)
    {
        CategoryIds = categoryIds;
        _precision = precision;
        _recall = recall;
        _categoryIndex = new Dictionary<long, int>(categoryIds.Length);
        for (int k = 0; k < categoryIds.Length; k++) _categoryIndex[categoryIds[k]] = k;
        Stats = Summarize();
        PerCategoryAp = categoryIds.ToDictionary(id => id, id => MeanDefined(_precision, PrecisionSlice(_categoryIndex[id], AreaRange.All, LimitCount - 1)));
    }

    /// <summary>The evaluated category ids, ascending.</summary>
    public IReadOnlyList<long> CategoryIds { get; }

    /// <summary>The twelve standard numbers.</summary>
    public CocoStats Stats { get; }

    /// <summary>AP (IoU .50:.95, area all, 100 detections) of every category, keyed by id; -1 for a category without ground truth.</summary>
    public IReadOnlyDictionary<long, double> PerCategoryAp { get; }

    /// <summary>
    /// The interpolated precision of one category at the 101 <see cref="CocoEvalParameters.RecallThresholds"/>:
    /// the precision–recall curve the AP averages. All -1 when the category has no ground truth in the range.
    /// </summary>
    /// <param name="iouIndex">Index into <see cref="CocoEvalParameters.IouThresholds"/> (0 is IoU .50).</param>
    /// <param name="maxDetections">1, 10 or 100.</param>
    /// <returns>101 values.</returns>
    public ReadOnlySpan<double> PrecisionCurve(long categoryId, int iouIndex, AreaRange area = AreaRange.All, int maxDetections = 100)
    {
        var (start, _) = PrecisionSlice(CategoryIndex(categoryId), area, LimitIndex(maxDetections));
        return _precision.AsSpan(start + CheckIou(iouIndex) * RecallCount, RecallCount);
    }

    /// <summary>
    /// The precision–recall curve over all categories: at each recall threshold, the mean interpolated precision of
    /// the categories where it is defined (-1 where none is). This is the curve whose mean is AP50 at IoU index 0.
    /// </summary>
    /// <returns>101 values, one per <see cref="CocoEvalParameters.RecallThresholds"/>.</returns>
    public double[] MeanPrecisionCurve(int iouIndex, AreaRange area = AreaRange.All, int maxDetections = 100)
    {
        int limit = LimitIndex(maxDetections);
        CheckIou(iouIndex);
        var curve = new double[RecallCount];
        for (int r = 0; r < RecallCount; r++)
        {
            double sum = 0;
            int count = 0;
            for (int k = 0; k < CategoryIds.Count; k++)
            {
                double value = _precision[PrecisionSlice(k, area, limit).Start + iouIndex * RecallCount + r];
                if (value > -1) (sum, count) = (sum + value, count + 1);
            }
            curve[r] = count == 0 ? -1 : sum / count;
        }
        return curve;
    }

    /// <summary>The recall of one category after its last detection, or -1 when it has no ground truth in the range.</summary>
    public double Recall(long categoryId, int iouIndex, AreaRange area = AreaRange.All, int maxDetections = 100) =>
        _recall[RecallSlice(CategoryIndex(categoryId), area, LimitIndex(maxDetections)).Start + CheckIou(iouIndex)];

    /// <summary>Means in the reference evaluator's <c>summarize()</c> order.</summary>
    private CocoStats Summarize()
    {
        int last = LimitCount - 1;
        double Ap(AreaRange area, int? iou = null) => MeanOverCategories(_precision, k => PrecisionSlice(k, area, last), iou, RecallCount);
        double Ar(AreaRange area, int limit) => MeanOverCategories(_recall, k => RecallSlice(k, area, limit), null, 1);
        return new CocoStats(
            AP: Ap(AreaRange.All), AP50: Ap(AreaRange.All, CocoEvalParameters.Iou50), AP75: Ap(AreaRange.All, CocoEvalParameters.Iou75),
            APs: Ap(AreaRange.Small), APm: Ap(AreaRange.Medium), APl: Ap(AreaRange.Large),
            AR1: Ar(AreaRange.All, 0), AR10: Ar(AreaRange.All, 1), AR100: Ar(AreaRange.All, last),
            ARs: Ar(AreaRange.Small, last), ARm: Ar(AreaRange.Medium, last), ARl: Ar(AreaRange.Large, last));
    }

    /// <summary>Mean of the defined (&gt; -1) values of every category's slice, optionally at one IoU threshold only; -1 if none is defined.</summary>
    private double MeanOverCategories(double[] values, Func<int, (int Start, int Length)> slice, int? iou, int perIou)
    {
        double sum = 0;
        long count = 0;
        for (int k = 0; k < CategoryIds.Count; k++)
        {
            var (start, length) = slice(k);
            if (iou is int t) (start, length) = (start + t * perIou, perIou);
            foreach (double value in values.AsSpan(start, length))
                if (value > -1) (sum, count) = (sum + value, count + 1);
        }
        return count == 0 ? -1 : sum / count;
    }

    private static double MeanDefined(double[] values, (int Start, int Length) slice)
    {
        double sum = 0;
        int count = 0;
        foreach (double value in values.AsSpan(slice.Start, slice.Length))
            if (value > -1) (sum, count) = (sum + value, count + 1);
        return count == 0 ? -1 : sum / count;
    }

    /// <summary>Where the [T, R] block of (category k, area, limit) starts in the flat precision array.</summary>
    private static (int Start, int Length) PrecisionSlice(int k, AreaRange area, int limit) =>
        ((((k * AreaCount) + (int)area) * LimitCount + limit) * IouCount * RecallCount, IouCount * RecallCount);

    /// <summary>Where the [T] block of (category k, area, limit) starts in the flat recall array.</summary>
    private static (int Start, int Length) RecallSlice(int k, AreaRange area, int limit) =>
        ((((k * AreaCount) + (int)area) * LimitCount + limit) * IouCount, IouCount);

    private int CategoryIndex(long categoryId) => _categoryIndex.TryGetValue(categoryId, out int k)
        ? k
        : throw new ArgumentException($"category {categoryId} is not in the ground truth", nameof(categoryId));

    private static int LimitIndex(int maxDetections)
    {
        for (int m = 0; m < LimitCount; m++)
            if (CocoEvalParameters.MaxDetections[m] == maxDetections) return m;
        throw new ArgumentOutOfRangeException(nameof(maxDetections), maxDetections, "must be 1, 10 or 100");
    }

    private static int CheckIou(int iouIndex) => (uint)iouIndex < (uint)IouCount
        ? iouIndex
        : throw new ArgumentOutOfRangeException(nameof(iouIndex), iouIndex, $"must be 0..{IouCount - 1}");

    /// <summary>Flat index of one precision value; used by the evaluator that fills the array.</summary>
    internal static int PrecisionOffset(int k, int area, int limit, int iou) =>
        ((((k * AreaCount) + area) * LimitCount + limit) * IouCount + iou) * RecallCount;

    /// <summary>Flat index of one recall value; used by the evaluator that fills the array.</summary>
    internal static int RecallOffset(int k, int area, int limit, int iou) =>
        (((k * AreaCount) + area) * LimitCount + limit) * IouCount + iou;

    internal static int PrecisionLength(int categories) => categories * AreaCount * LimitCount * IouCount * RecallCount;

    internal static int RecallLength(int categories) => categories * AreaCount * LimitCount * IouCount;
}
