using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// RoI features from a feature pyramid: each RoI reads the level its scale maps to, as mmdetection's
/// SingleRoIExtractor does: <c>level = floor(log2(√(w·h) / finestScale + 1e-6))</c>, clamped to the levels there are.
/// All levels go through one <see cref="PyramidRoIAlign"/> pass, each RoI sampling only its level: the cost is that of
/// one level, with no sorting of RoIs by level and no host synchronisation on the tensor path.
/// </summary>
public sealed class MultiLevelRoIExtractor
{
    private readonly double[] scales;

    /// <param name="finestScale">RoIs smaller than 2 × this go to the finest level; 32 suits 128 px inputs (mmdetection uses 56 for 800 px).</param>
    public MultiLevelRoIExtractor(IReadOnlyList<int> strides, int outputSize = 7, int samplingRatio = 2, double finestScale = 32)
    {
        scales = strides.Select(s => 1.0 / s).ToArray();
        OutputSize = outputSize;
        SamplingRatio = samplingRatio;
        FinestScale = finestScale;
    }

    public double FinestScale { get; }
    public int OutputSize { get; }
    public int SamplingRatio { get; }

    /// <summary>Which RoIAlign implementation runs (<see cref="RoIAlignPath.Auto"/> unless a test or benchmark pins one).</summary>
    public RoIAlignPath Path { get; init; } = RoIAlignPath.Auto;

    /// <summary>int64 <c>[B, R]</c>: the level each RoI <c>[B, R, 4]</c> reads.</summary>
    public Tensor LevelOf(Tensor rois)
    {
        using var scope = NewDisposeScope();
        var area = ((rois[.., .., 2] - rois[.., .., 0]) * (rois[.., .., 3] - rois[.., .., 1])).clamp_min(0);
        var level = (area.sqrt() / FinestScale + 1e-6).log2().floor().clamp(0, scales.Length - 1);
        return level.to(ScalarType.Int64).MoveToOuterDisposeScope();
    }

    /// <summary>Levels <c>[B, C, H_l, W_l]</c> (finest first) and RoIs <c>[B, R, 4]</c> → <c>[B, R, C, P, P]</c>.</summary>
    /// <param name="known">optional outputs already pooled without gradient for the RoIs <paramref name="knownMask"/> <c>[B, R]</c>
    /// sets (see <see cref="PyramidRoIAlign.Pool"/>).</param>
    public Tensor Apply(IReadOnlyList<Tensor> levels, Tensor rois, Tensor? known = null, Tensor? knownMask = null)
    {
        if (levels.Count != scales.Length) throw new ArgumentException($"{levels.Count} feature levels for {scales.Length} strides");
        using var scope = NewDisposeScope();
        return PyramidRoIAlign.Pool(levels, scales, rois, LevelOf(rois), OutputSize, SamplingRatio, Path, known, knownMask).MoveToOuterDisposeScope();
    }
}
