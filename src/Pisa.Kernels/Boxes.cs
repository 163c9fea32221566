using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>Whether an overlap is intersection over union or intersection over the first box's area.</summary>
public enum OverlapMode { IoU, IoF }

/// <summary>
/// Box geometry: areas, overlaps and the delta-xywh coding (ALGORITHMS.md, "Boxes"). Boxes are <c>[x1, y1, x2, y2]</c>
/// in pixels with the plain (no +1) area; every function broadcasts over leading batch dimensions.
/// </summary>
public static class Boxes
{
    /// <summary>The clamp under every union (or area, for IoF): degenerate boxes overlap 0, never NaN.</summary>
    public const double OverlapEps = 1e-6;

    /// <summary>The default <c>wh_ratio_clip</c> of the delta decoder: |ln(16/1000)| bounds dw and dh.</summary>
    public const double DefaultWhRatioClip = 16.0 / 1000.0;

    /// <summary>The two-stage R-CNN head's default delta means.</summary>
    public static readonly double[] DefaultMeans = [0, 0, 0, 0];

    /// <summary>The two-stage R-CNN head's default delta stds.</summary>
    public static readonly double[] DefaultStds = [0.1, 0.1, 0.2, 0.2];

    /// <summary>Plain box area <c>(x2-x1)*(y2-y1)</c>.</summary>
    /// <param name="boxes">[..., 4].</param>
    /// <returns>[...].</returns>
    public static Tensor Area(Tensor boxes)
    {
        using var scope = NewDisposeScope();
        var (x1, y1, x2, y2) = Corners(boxes);
        return ((x2 - x1) * (y2 - y1)).MoveToOuterDisposeScope();
    }

    /// <summary>Pairwise overlaps of every box of <paramref name="a"/> with every box of <paramref name="b"/>.</summary>
    /// <param name="a">[..., N, 4].</param>
    /// <param name="b">[..., M, 4].</param>
    /// <returns>[..., N, M].</returns>
    public static Tensor Overlaps(Tensor a, Tensor b, OverlapMode mode = OverlapMode.IoU) =>
        OverlapsOf(a.unsqueeze(-2), b.unsqueeze(-3), mode);

    /// <summary>Overlap of each box of <paramref name="a"/> with the box at the same index of <paramref name="b"/>.</summary>
    /// <param name="a">[..., N, 4].</param>
    /// <param name="b">[..., N, 4].</param>
    /// <returns>[..., N].</returns>
    public static Tensor AlignedOverlaps(Tensor a, Tensor b, OverlapMode mode = OverlapMode.IoU) => OverlapsOf(a, b, mode);

    /// <summary>Overlaps of broadcastable box tensors; the union (or area) is clamped at <see cref="OverlapEps"/>.</summary>
    private static Tensor OverlapsOf(Tensor a, Tensor b, OverlapMode mode)
    {
        using var scope = NewDisposeScope();
        var inter = Intersection(a, b);
        var areaA = Area(a);
        // In place on the full-size temporaries: each pass over a [.., N, M] matrix allocates nothing new.
        var denominator = mode == OverlapMode.IoU ? (areaA + Area(b)).sub_(inter).clamp_min_(OverlapEps) : areaA.clamp_min(OverlapEps);
        return inter.div_(denominator).MoveToOuterDisposeScope();
    }

    /// <summary>Intersection area of broadcastable boxes (0 when they do not meet).</summary>
    /// <param name="a">[..., 4].</param>
    /// <param name="b">[..., 4] broadcastable with <paramref name="a"/>.</param>
    /// <returns>the broadcast shape without the last dimension.</returns>
    public static Tensor Intersection(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var (ax1, ay1, ax2, ay2) = Corners(a);
        var (bx1, by1, bx2, by2) = Corners(b);
        var w = minimum(ax2, bx2).sub_(maximum(ax1, bx1)).clamp_min_(0);
        var h = minimum(ay2, by2).sub_(maximum(ay1, by1)).clamp_min_(0);
        return w.mul_(h).MoveToOuterDisposeScope();
    }

    /// <summary>Generalised IoU of aligned boxes: IoU minus the share of the enclosing box covered by neither.</summary>
    /// <param name="a">[..., 4].</param>
    /// <param name="b">[..., 4].</param>
    /// <returns>[...], in [-1, 1].</returns>
    public static Tensor AlignedGIoU(Tensor a, Tensor b, double eps = 1e-6)
    {
        using var scope = NewDisposeScope();
        var inter = Intersection(a, b);
        var union = (Area(a) + Area(b) - inter).clamp_min(eps);
        var (ax1, ay1, ax2, ay2) = Corners(a);
        var (bx1, by1, bx2, by2) = Corners(b);
        var enclosing = ((maximum(ax2, bx2) - minimum(ax1, bx1)).clamp_min(0) * (maximum(ay2, by2) - minimum(ay1, by1)).clamp_min(0)).clamp_min(eps);
        return (inter / union - (enclosing - union) / enclosing).MoveToOuterDisposeScope();
    }

    /// <summary>Delta-xywh encoding of <paramref name="gt"/> relative to <paramref name="proposals"/>, normalised by means and stds.</summary>
    /// <param name="proposals">[..., 4].</param>
    /// <param name="gt">[..., 4].</param>
    /// <returns>[..., 4] deltas <c>(dx, dy, dw, dh)</c>.</returns>
    public static Tensor EncodeDeltaXywh(Tensor proposals, Tensor gt, double[]? means = null, double[]? stds = null)
    {
        using var scope = NewDisposeScope();
        var (px, py, pw, ph) = CentreSize(proposals);
        var (gx, gy, gw, gh) = CentreSize(gt);
        var deltas = stack([(gx - px) / pw, (gy - py) / ph, (gw / pw).log(), (gh / ph).log()], -1);
        return ((deltas - Row(means ?? DefaultMeans, deltas)) / Row(stds ?? DefaultStds, deltas)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Inverse of <see cref="EncodeDeltaXywh"/>: dw and dh are clamped to ±|ln(<paramref name="whRatioClip"/>)| before
    /// exp (the centre shift is not); with <paramref name="maxShape"/> the boxes are clipped to the image.
    /// </summary>
    /// <param name="rois">[..., 4].</param>
    /// <param name="deltas">[..., 4].</param>
    /// <param name="maxShape">optional [..., 2] image (h, w), broadcastable to the leading dimensions of the boxes.</param>
    /// <returns>[..., 4] boxes.</returns>
    public static Tensor DecodeDeltaXywh(Tensor rois, Tensor deltas, double[]? means = null, double[]? stds = null,
        Tensor? maxShape = null, double whRatioClip = DefaultWhRatioClip)
    {
        using var scope = NewDisposeScope();
        var d = deltas * Row(stds ?? DefaultStds, deltas) + Row(means ?? DefaultMeans, deltas);
        double maxRatio = Math.Abs(Math.Log(whRatioClip));
        var (px, py, pw, ph) = CentreSize(rois);
        var gx = px + pw * d[TensorIndex.Ellipsis, 0];
        var gy = py + ph * d[TensorIndex.Ellipsis, 1];
        var gw = pw * d[TensorIndex.Ellipsis, 2].clamp(-maxRatio, maxRatio).exp();
        var gh = ph * d[TensorIndex.Ellipsis, 3].clamp(-maxRatio, maxRatio).exp();
        var x1 = gx - gw * 0.5;
        var y1 = gy - gh * 0.5;
        var x2 = gx + gw * 0.5;
        var y2 = gy + gh * 0.5;
        if (maxShape is not null)
        {
            var zero = zeros_like(x1);
            var h = maxShape[TensorIndex.Ellipsis, 0].to(x1.dtype);
            var w = maxShape[TensorIndex.Ellipsis, 1].to(x1.dtype);
            (x1, x2) = (minimum(maximum(x1, zero), w.expand_as(x1)), minimum(maximum(x2, zero), w.expand_as(x2)));
            (y1, y2) = (minimum(maximum(y1, zero), h.expand_as(y1)), minimum(maximum(y2, zero), h.expand_as(y2)));
        }
        return stack([x1, y1, x2, y2], -1).MoveToOuterDisposeScope();
    }

    /// <summary>The 4 deltas of each row's own class from a class-specific regression output (class-agnostic passes through).</summary>
    /// <param name="bboxPred">[..., 4C] or [..., 4].</param>
    /// <param name="labels">[...] int64 class in 0..C-1 (other values are clamped into range; callers mask them).</param>
    /// <returns>[..., 4].</returns>
    public static Tensor DeltasOfClass(Tensor bboxPred, Tensor labels)
    {
        long width = bboxPred.shape[^1];
        if (width == 4) return bboxPred.alias();
        using var scope = NewDisposeScope();
        long classes = width / 4;
        var label = labels.clamp(0, classes - 1);
        if (bboxPred.is_contiguous() && labels.shape.SequenceEqual(bboxPred.shape[..^1]))
        {
            // A row's 4 deltas of one class are one 16-byte run: copying those runs (index_select over [rows * C, 4]) is
            // about 3x faster than an element-wise gather when the big [..., 4C] tensor is not in cache.
            var run = arange(label.numel(), int64, label.device).view(label.shape).mul_(classes).add_(label);
            return bboxPred.view(-1, 4).index_select(0, run.flatten()).view([.. labels.shape, 4]).MoveToOuterDisposeScope();
        }
        var perClass = bboxPred.reshape([.. bboxPred.shape[..^1], classes, 4]);
        var index = label.unsqueeze(-1).unsqueeze(-1).expand([.. labels.shape, 1, 4]);
        return perClass.gather(-2, index).squeeze(-2).MoveToOuterDisposeScope();
    }

    private static (Tensor X1, Tensor Y1, Tensor X2, Tensor Y2) Corners(Tensor boxes) =>
        (boxes[TensorIndex.Ellipsis, 0], boxes[TensorIndex.Ellipsis, 1], boxes[TensorIndex.Ellipsis, 2], boxes[TensorIndex.Ellipsis, 3]);

    /// <summary>Centre and size; the centre is the corners' mean, as the reference coder computes it.</summary>
    private static (Tensor X, Tensor Y, Tensor W, Tensor H) CentreSize(Tensor boxes)
    {
        var (x1, y1, x2, y2) = Corners(boxes);
        return ((x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1);
    }

    /// <summary>A 4-vector of constants on <paramref name="like"/>'s device and dtype, broadcasting over the last dimension.</summary>
    private static Tensor Row(double[] values, Tensor like) => tensor(values, like.dtype, like.device);
}
