using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>Which implementation of RoIAlign runs.</summary>
public enum RoIAlignPath
{
    /// <summary>The CPU kernel for float32 tensors on the CPU, the tensor path everywhere else.</summary>
    Auto,

    /// <summary>Always the tensor path (gather and weighted sum): any device, any dtype, no host synchronisation.</summary>
    Tensor,
}

/// <summary>
/// RoIAlign with torchvision / mmcv <c>aligned=True</c> semantics, for a padded batch of RoIs.
/// <para>Each RoI (input pixels) is scaled by <c>spatialScale</c> and shifted by -0.5 so that pixel centres sit at
/// integers; it is split into P×P bins, each averaging <c>samplingRatio</c>² bilinear samples at the centres of a
/// regular sub-grid. A sample with y &lt; -1 or y &gt; H (or x likewise) counts as 0; otherwise coordinates below 0
/// clamp to 0 and those at or beyond the last row / column use it alone, as the reference kernels do. The average
/// always divides by samplingRatio² (zero samples included).</para>
/// <para>Each output costs 4·samplingRatio² reads of a C-vector, as in the reference kernels: O(R·C·P²·s²), whatever
/// the feature map's size (see <see cref="PyramidRoIAlign"/>). (mmdetection's default sampling_ratio = 0 picks a
/// per-RoI adaptive count; here the count is fixed.)</para>
/// </summary>
public sealed class RoIAlign(int outputSize = 7, double spatialScale = 1.0, int samplingRatio = 2)
{
    public int OutputSize { get; } = outputSize > 0 ? outputSize : throw new ArgumentOutOfRangeException(nameof(outputSize));
    public double SpatialScale { get; } = spatialScale;
    public int SamplingRatio { get; } = samplingRatio > 0
        ? samplingRatio
        : throw new ArgumentOutOfRangeException(nameof(samplingRatio), "adaptive sampling (0) is not supported; use a fixed count such as 2");

    /// <summary>Which implementation runs (<see cref="RoIAlignPath.Auto"/> unless a test or benchmark pins one).</summary>
    public RoIAlignPath Path { get; init; } = RoIAlignPath.Auto;

    /// <summary>Features <c>[B, C, H, W]</c> and RoIs <c>[B, R, 4]</c> (x1y1x2y2, input pixels) → <c>[B, R, C, P, P]</c>.</summary>
    public Tensor Apply(Tensor features, Tensor rois)
    {
        using var scope = NewDisposeScope();
        var level = zeros(rois.shape[0], rois.shape[1], ScalarType.Int64, rois.device);
        return PyramidRoIAlign.Pool([features], [SpatialScale], rois, level, OutputSize, SamplingRatio, Path).MoveToOuterDisposeScope();
    }
}
