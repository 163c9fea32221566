namespace Pisa.Evaluation;

/// <summary>The object sizes COCO reports separately; ranges are on the annotation's <c>area</c> field.</summary>
public enum AreaRange
{
    All = 0,
    Small = 1,
    Medium = 2,
    Large = 3,
}

/// <summary>
/// The fixed parameters of COCO bbox evaluation, bit for bit as the reference evaluator builds them
/// (see <c>shared/eval-cases/README.md</c>): the thresholds are the doubles numpy's <c>linspace</c> yields,
/// not the decimals they print as, because recalls like exactly 7/10 land on the wrong side of a decimal 0.70.
/// </summary>
public static class CocoEvalParameters
{
    /// <summary>Ten IoU thresholds .50:.05:.95: <c>0.5 + i * (0.45 / 9)</c>, the last one exactly 0.95 (t_8 is 0.8999999999999999).</summary>
    public static IReadOnlyList<double> IouThresholds { get; } = Linspace(0.5, 0.95, 10);

    /// <summary>101 recall thresholds 0:.01:1: <c>i * 0.01</c>, the last one exactly 1.0 (ten of them sit one ulp above their decimal).</summary>
    public static IReadOnlyList<double> RecallThresholds { get; } = Linspace(0.0, 1.0, 101);

    /// <summary>Detection limits per image and category: 1, 10, 100.</summary>
    public static IReadOnlyList<int> MaxDetections { get; } = [1, 10, 100];

    /// <summary>The largest detection limit: only this many top-scored detections of an (image, category) are evaluated at all.</summary>
    public const int MaxDetectionsEvaluated = 100;

    /// <summary>Index of the IoU threshold 0.50 in <see cref="IouThresholds"/>.</summary>
    public const int Iou50 = 0;

    /// <summary>Index of the IoU threshold 0.75 in <see cref="IouThresholds"/>.</summary>
    public const int Iou75 = 5;

    /// <summary>The four area ranges in <see cref="AreaRange"/> order.</summary>
    public static IReadOnlyList<AreaRange> AreaRanges { get; } = [AreaRange.All, AreaRange.Small, AreaRange.Medium, AreaRange.Large];

    /// <summary>Inclusive bounds of an area range: all [0, 1e10], small [0, 32²], medium [32², 96²], large [96², 1e10].</summary>
    public static (double Low, double High) Bounds(AreaRange range) => range switch
    {
        AreaRange.All => (0, 1e10),
        AreaRange.Small => (0, 32 * 32),
        AreaRange.Medium => (32 * 32, 96 * 96),
        AreaRange.Large => (96 * 96, 1e10),
        _ => throw new ArgumentOutOfRangeException(nameof(range), range, null),
    };

    /// <summary>True when <paramref name="area"/> lies outside the range; both ends are inside.</summary>
    public static bool IsOutside(double area, (double Low, double High) bounds) => area < bounds.Low || area > bounds.High;

    /// <summary>numpy's <c>linspace(start, stop, count)</c>: <c>start + i * step</c>, then the last value set to <paramref name="stop"/>.</summary>
    private static double[] Linspace(double start, double stop, int count)
    {
        double step = (stop - start) / (count - 1);
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = i * step + start;
        values[^1] = stop;
        return values;
    }
}
