using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// RoIAlign with torchvision / mmcv <c>aligned=True</c> semantics, for a padded batch of RoIs.
/// <para>Each RoI (input pixels) is scaled by <c>spatialScale</c> and shifted by -0.5 so that pixel centres sit at
/// integers; it is split into P×P bins, each averaging <c>samplingRatio</c>² bilinear samples at the centres of a
/// regular sub-grid. A sample with y &lt; -1 or y &gt; H (or x likewise) counts as 0; otherwise coordinates below 0
/// clamp to 0 and those at or beyond the last row / column use it alone, as the reference kernels do. The average
/// always divides by samplingRatio² (zero samples included).</para>
/// <para>Bilinear weights factor into a y part and an x part, so each bin's average is
/// <c>Wy · F · Wxᵀ</c> with per-RoI interpolation matrices Wy <c>[P, H]</c> and Wx <c>[P, W]</c>: two batched
/// matrix products, differentiable in the features, with no gather over RoIs and no host synchronisation.
/// (mmdetection's default sampling_ratio = 0 picks a per-RoI adaptive count; here the count is fixed.)</para>
/// </summary>
public sealed class RoIAlign(int outputSize = 7, double spatialScale = 1.0, int samplingRatio = 2)
{
    public int OutputSize { get; } = outputSize > 0 ? outputSize : throw new ArgumentOutOfRangeException(nameof(outputSize));
    public double SpatialScale { get; } = spatialScale;
    public int SamplingRatio { get; } = samplingRatio > 0
        ? samplingRatio
        : throw new ArgumentOutOfRangeException(nameof(samplingRatio), "adaptive sampling (0) is not supported; use a fixed count such as 2");

    /// <summary>Features <c>[B, C, H, W]</c> and RoIs <c>[B, R, 4]</c> (x1y1x2y2, input pixels) → <c>[B, R, C, P, P]</c>.</summary>
    public Tensor Apply(Tensor features, Tensor rois)
    {
        using var scope = NewDisposeScope();
        long b = features.shape[0], c = features.shape[1], h = features.shape[2], w = features.shape[3], r = rois.shape[1];
        int p = OutputSize;
        var scaled = rois.to(features.dtype) * SpatialScale - 0.5;
        var wy = InterpolationMatrix(scaled[.., .., 1], scaled[.., .., 3], h); // [B, R, P, H]
        var wx = InterpolationMatrix(scaled[.., .., 0], scaled[.., .., 2], w); // [B, R, P, W]
        // Rows first, one product per image: [B, R·P, H] @ [B, H, C·W] → [B, R·P, C·W].
        var rows = wy.reshape(b, r * p, h).bmm(features.permute(0, 2, 1, 3).reshape(b, h, c * w));
        // Then columns, one small product per RoI: [B·R, P·C, W] @ [B·R, W, P] → [B, R, P(y), C, P(x)].
        // (A plain batched product; einsum would copy its operands into its own layout first, 5× slower on CPU.)
        var pooled = rows.reshape(b * r, p * c, w).matmul(wx.reshape(b * r, p, w).transpose(1, 2));
        return pooled.reshape(b, r, p, c, p).permute(0, 1, 3, 2, 4).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For RoI extents [start, end) along one axis of a feature map of <paramref name="size"/> cells:
    /// <c>[B, R, P, size]</c>, row p holding the weight of each cell in bin p's average of bilinear samples.
    /// </summary>
    private Tensor InterpolationMatrix(Tensor start, Tensor end, long size)
    {
        int p = OutputSize, g = SamplingRatio;
        var binSize = ((end - start) / p).unsqueeze(-1); // [B, R, 1]
        // Sample k of bin i sits at start + i·bin + (k + 0.5)·bin/g: offsets in units of a bin, [P·g].
        var offsets = (arange(p, dtype: start.dtype, device: start.device).unsqueeze(-1)
                       + (arange(g, dtype: start.dtype, device: start.device) + 0.5) / g).reshape(-1);
        var at = start.unsqueeze(-1) + offsets * binSize; // [B, R, P·g]
        var inside = (at >= -1.0).logical_and(at <= size).to(start.dtype);
        // The reference clamps y <= 0 to 0 and, when floor(y) >= H - 1, uses row H - 1 alone: both are a clamp to [0, H - 1].
        var clamped = at.clamp(0, size - 1);
        var low = clamped.floor();
        var high = (low + 1).clamp_max(size - 1);
        var fraction = clamped - low;
        var weights = nn.functional.one_hot(low.to(ScalarType.Int64), size).to(start.dtype) * (1 - fraction).unsqueeze(-1)
                    + nn.functional.one_hot(high.to(ScalarType.Int64), size).to(start.dtype) * fraction.unsqueeze(-1);
        weights *= inside.unsqueeze(-1);
        return weights.reshape(start.shape[0], start.shape[1], p, g, size).mean([3]);
    }
}
