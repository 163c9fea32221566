using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// RoI features from a feature pyramid: each RoI reads the level its scale maps to, as mmdetection's
/// SingleRoIExtractor does: <c>level = floor(log2(√(w·h) / finestScale + 1e-6))</c>, clamped to the levels there are.
/// Every level is pooled for every RoI and the right one kept by a mask: with two small levels this costs less than
/// sorting RoIs by level, and it never synchronises with the host.
/// </summary>
public sealed class MultiLevelRoIExtractor
{
    private readonly RoIAlign[] perLevel;

    /// <param name="finestScale">RoIs smaller than 2 × this go to the finest level; 32 suits 128 px inputs (mmdetection uses 56 for 800 px).</param>
    public MultiLevelRoIExtractor(IReadOnlyList<int> strides, int outputSize = 7, int samplingRatio = 2, double finestScale = 32)
    {
        perLevel = strides.Select(s => new RoIAlign(outputSize, 1.0 / s, samplingRatio)).ToArray();
        FinestScale = finestScale;
    }

    public double FinestScale { get; }
    public int OutputSize => perLevel[0].OutputSize;

    /// <summary>int64 <c>[B, R]</c>: the level each RoI <c>[B, R, 4]</c> reads.</summary>
    public Tensor LevelOf(Tensor rois)
    {
        using var scope = NewDisposeScope();
        var area = ((rois[.., .., 2] - rois[.., .., 0]) * (rois[.., .., 3] - rois[.., .., 1])).clamp_min(0);
        var level = (area.sqrt() / FinestScale + 1e-6).log2().floor().clamp(0, perLevel.Length - 1);
        return level.to(ScalarType.Int64).MoveToOuterDisposeScope();
    }

    /// <summary>Levels <c>[B, C, H_l, W_l]</c> (finest first) and RoIs <c>[B, R, 4]</c> → <c>[B, R, C, P, P]</c>.</summary>
    public Tensor Apply(IReadOnlyList<Tensor> levels, Tensor rois)
    {
        if (levels.Count != perLevel.Length) throw new ArgumentException($"{levels.Count} feature levels for {perLevel.Length} strides");
        using var scope = NewDisposeScope();
        if (perLevel.Length == 1) return perLevel[0].Apply(levels[0], rois).MoveToOuterDisposeScope();
        var level = LevelOf(rois);
        Tensor? result = null;
        for (int l = 0; l < perLevel.Length; l++)
        {
            var mask = (level == l).to(levels[l].dtype).reshape(level.shape[0], level.shape[1], 1, 1, 1);
            var pooled = perLevel[l].Apply(levels[l], rois) * mask;
            result = result is null ? pooled : result + pooled;
        }
        return result!.MoveToOuterDisposeScope();
    }
}
