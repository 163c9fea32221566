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

    private const int LastLimit = 2;

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
        PerCategoryAp = categoryIds.ToDictionary(id => id, id => DefinedMean.Of(PrecisionBlock(_categoryIndex[id], AreaRange.All, LastLimit)));
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
    public ReadOnlySpan<double> PrecisionCurve(long categoryId, int iouIndex, AreaRange area = AreaRange.All, int maxDetections = 100) =>
        PrecisionBlock(CategoryIndex(categoryId), area, LimitIndex(maxDetections)).Slice(CheckIou(iouIndex) * RecallCount, RecallCount);

    /// <summary>
    /// The precision–recall curve over all categories: at each recall threshold, the mean interpolated precision of
    /// the categories where it is defined (-1 where none is). Its mean is AP50 at IoU index 0.
    /// </summary>
    /// <returns>101 values, one per <see cref="CocoEvalParameters.RecallThresholds"/>.</returns>
    public double[] MeanPrecisionCurve(int iouIndex, AreaRange area = AreaRange.All, int maxDetections = 100)
    {
        int limit = LimitIndex(maxDetections), offset = CheckIou(iouIndex) * RecallCount;
        var curve = new double[RecallCount];
        for (int r = 0; r < RecallCount; r++)
        {
            var mean = new DefinedMean();
            for (int k = 0; k < CategoryIds.Count; k++) mean.Add(PrecisionBlock(k, area, limit)[offset + r]);
            curve[r] = mean.Value;
        }
        return curve;
    }

    /// <summary>The recall of one category after its last detection, or -1 when it has no ground truth in the range.</summary>
    public double Recall(long categoryId, int iouIndex, AreaRange area = AreaRange.All, int maxDetections = 100) =>
        RecallBlock(CategoryIndex(categoryId), area, LimitIndex(maxDetections))[CheckIou(iouIndex)];

    /// <summary>The twelve means in the reference evaluator's <c>summarize()</c> order.</summary>
    private CocoStats Summarize() => new(
        AP: MeanPrecision(AreaRange.All), AP50: MeanPrecision(AreaRange.All, CocoEvalParameters.Iou50), AP75: MeanPrecision(AreaRange.All, CocoEvalParameters.Iou75),
        APs: MeanPrecision(AreaRange.Small), APm: MeanPrecision(AreaRange.Medium), APl: MeanPrecision(AreaRange.Large),
        AR1: MeanRecall(AreaRange.All, limit: 0), AR10: MeanRecall(AreaRange.All, limit: 1), AR100: MeanRecall(AreaRange.All, LastLimit),
        ARs: MeanRecall(AreaRange.Small, LastLimit), ARm: MeanRecall(AreaRange.Medium, LastLimit), ARl: MeanRecall(AreaRange.Large, LastLimit));

    /// <summary>Mean interpolated precision at 100 detections over categories, recall thresholds and all IoU thresholds or one.</summary>
    private double MeanPrecision(AreaRange area, int? iouIndex = null)
    {
        var mean = new DefinedMean();
        for (int k = 0; k < CategoryIds.Count; k++)
        {
            var block = PrecisionBlock(k, area, LastLimit);
            mean.Add(iouIndex is int t ? block.Slice(t * RecallCount, RecallCount) : block);
        }
        return mean.Value;
    }

    /// <summary>Mean final recall over categories and IoU thresholds.</summary>
    private double MeanRecall(AreaRange area, int limit)
    {
        var mean = new DefinedMean();
        for (int k = 0; k < CategoryIds.Count; k++) mean.Add(RecallBlock(k, area, limit));
        return mean.Value;
    }

    /// <summary>Precision of (category k, area, limit), [T, R].</summary>
    private ReadOnlySpan<double> PrecisionBlock(int k, AreaRange area, int limit) =>
        _precision.AsSpan(PrecisionOffset(k, (int)area, limit, 0), IouCount * RecallCount);

    /// <summary>Recall of (category k, area, limit), [T].</summary>
    private ReadOnlySpan<double> RecallBlock(int k, AreaRange area, int limit) =>
        _recall.AsSpan(RecallOffset(k, (int)area, limit, 0), IouCount);

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

    /// <summary>Flat index of precision [k, area, limit, iou, 0]; used by the evaluator that fills the array.</summary>
    internal static int PrecisionOffset(int k, int area, int limit, int iou) =>
        ((((k * AreaCount) + area) * LimitCount + limit) * IouCount + iou) * RecallCount;

    /// <summary>Flat index of recall [k, area, limit, iou]; used by the evaluator that fills the array.</summary>
    internal static int RecallOffset(int k, int area, int limit, int iou) =>
        (((k * AreaCount) + area) * LimitCount + limit) * IouCount + iou;

    internal static int PrecisionLength(int categories) => categories * AreaCount * LimitCount * IouCount * RecallCount;

    internal static int RecallLength(int categories) => categories * AreaCount * LimitCount * IouCount;

    /// <summary>The mean of the values that are defined (not -1), as the reference's <c>mean(s[s &gt; -1])</c>; -1 when none is.</summary>
    private struct DefinedMean
    {
        private double _sum;
        private long _count;

        public static double Of(ReadOnlySpan<double> values)
        {
            var mean = new DefinedMean();
            mean.Add(values);
            return mean.Value;
        }

        public void Add(double value)
        {
            if (value <= -1) return;
            _sum += value;
            _count++;
        }

        public void Add(ReadOnlySpan<double> values)
        {
            foreach (double value in values) Add(value);
        }

        public readonly double Value => _count == 0 ? -1 : _sum / _count;
    }
}
