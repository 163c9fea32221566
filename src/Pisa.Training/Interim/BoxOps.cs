using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Interim;

/// <summary>
/// Box helpers of the decoders, now thin adapters over Pisa.Kernels (<c>delta_xywh_decode</c>, exact NMS) in the
/// shapes and types <see cref="Inference.DetectionDecoder"/> and <see cref="Inference.ProposalGenerator"/> call; the
/// file goes once those call the kernels directly.
/// </summary>
public static class BoxOps
{
    /// <summary>mmdetection's default <c>wh_ratio_clip</c>: dw, dh are clamped to ±|ln(16/1000)| = ±4.1351666.</summary>
    public const double WhRatioClip = 16.0 / 1000;

    /// <summary>R-CNN box head target stds (means 0).</summary>
    public static readonly float[] RcnnStds = [0.1f, 0.1f, 0.2f, 0.2f];

    /// <summary>RPN and RetinaNet target stds (means 0).</summary>
    public static readonly float[] UnitStds = [1f, 1f, 1f, 1f];

    /// <summary>
    /// <c>delta_xywh_decode</c> (<see cref="Pisa.Kernels.Boxes.DecodeDeltaXywh"/>): priors <c>[..., 4]</c> x1y1x2y2 and
    /// deltas <c>[..., 4]</c> → boxes <c>[..., 4]</c>; dw, dh clamped to ±|ln(whRatioClip)|; no clipping to the image.
    /// </summary>
    public static Tensor DecodeDeltas(Tensor priors, Tensor deltas, float[] stds, float[]? means = null, double whRatioClip = WhRatioClip) =>
        Pisa.Kernels.Boxes.DecodeDeltaXywh(priors, deltas, means?.Select(m => (double)m).ToArray(), stds.Select(s => (double)s).ToArray(), whRatioClip: whRatioClip);

    /// <summary>Boxes <c>[..., 4]</c> clipped to an image of <paramref name="height"/> × <paramref name="width"/>.</summary>
    public static Tensor ClipToImage(Tensor boxes, int height, int width)
    {
        using var scope = NewDisposeScope();
        var x = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(0, 4, 2)].clamp(0, width);
        var y = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(1, 4, 2)].clamp(0, height);
        return stack([x[TensorIndex.Ellipsis, 0], y[TensorIndex.Ellipsis, 0], x[TensorIndex.Ellipsis, 1], y[TensorIndex.Ellipsis, 1]], -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Exact greedy NMS within each label (<see cref="Pisa.Kernels.Nms.Batched"/>): boxes <c>[N, 4]</c>, scores <c>[N]</c>,
    /// labels <c>[N]</c> → kept indices, highest score first (ties: lower index first); a box is suppressed by a kept
    /// box of its label when IoU &gt; threshold.
    /// </summary>
    public static long[] BatchedNms(Tensor boxes, Tensor scores, Tensor labels, double iouThreshold)
    {
        if (boxes.shape[0] == 0) return [];
        using var scope = NewDisposeScope();
        var kept = Pisa.Kernels.Nms.Batched(boxes.to(ScalarType.Float32), scores.to(ScalarType.Float32), labels.to(ScalarType.Int64), iouThreshold);
        return kept.cpu().data<long>().ToArray();
    }
}
