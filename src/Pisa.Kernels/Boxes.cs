using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>Whether an overlap is intersection over union or intersection over the first box's area.</summary>
public enum OverlapMode { IoU, IoF }

/// <summary>
/// Box geometry: areas and overlaps (ALGORITHMS.md, "Boxes"; the delta coding is <see cref="BoxCoder"/>). Boxes are <c>[x1, y1, x2, y2]</c>
/// in pixels with the plain (no +1) area; every function broadcasts over leading batch dimensions.
/// </summary>
public static class Boxes
{
    /// <summary>The clamp under every union (or area, for IoF): degenerate boxes overlap 0, never NaN.</summary>
    public const double OverlapEps = 1e-6;

    /// <summary>Plain box area <c>(x2-x1)*(y2-y1)</c>.</summary>
    /// <param name="boxes">[..., 4].</param>
    /// <returns>[...].</returns>
    public static Tensor Area(Tensor boxes)
    {
        using var scope = NewDisposeScope();
        return AreaOf(Corners(boxes)).MoveToOuterDisposeScope();
    }

    private static Tensor AreaOf(Corners4 c) => (c.X2 - c.X1) * (c.Y2 - c.Y1);

    /// <summary>Pairwise overlaps of every box of <paramref name="a"/> with every box of <paramref name="b"/>.</summary>
    /// <param name="a">[..., N, 4].</param>
    /// <param name="b">[..., M, 4].</param>
    /// <returns>[..., N, M].</returns>
    public static Tensor Overlaps(Tensor a, Tensor b, OverlapMode mode = OverlapMode.IoU)
    {
        using var scope = NewDisposeScope();
        // Contiguous corner planes: every pass over the [.., N, M] matrix then reads unit-stride rows (vectorised) instead
        // of every fourth float of the boxes.
        var (ax1, ay1, ax2, ay2) = CornerPlanes(a);
        var (bx1, by1, bx2, by2) = CornerPlanes(b);
        var rows = new Corners4(ax1.unsqueeze(-1), ay1.unsqueeze(-1), ax2.unsqueeze(-1), ay2.unsqueeze(-1));
        var columns = new Corners4(bx1.unsqueeze(-2), by1.unsqueeze(-2), bx2.unsqueeze(-2), by2.unsqueeze(-2));
        return OverlapsOf(rows, columns, mode).MoveToOuterDisposeScope();
    }

    /// <summary>Overlap of each box of <paramref name="a"/> with the box at the same index of <paramref name="b"/>.</summary>
    /// <param name="a">[..., N, 4].</param>
    /// <param name="b">[..., N, 4].</param>
    /// <returns>[..., N].</returns>
    public static Tensor AlignedOverlaps(Tensor a, Tensor b, OverlapMode mode = OverlapMode.IoU)
    {
        using var scope = NewDisposeScope();
        return OverlapsOf(CornerPlanes(a), CornerPlanes(b), mode).MoveToOuterDisposeScope();
    }

    /// <summary>Overlaps of broadcastable corners; the union (or area) is clamped at <see cref="OverlapEps"/>.</summary>
    private static Tensor OverlapsOf(Corners4 a, Corners4 b, OverlapMode mode)
    {
        var inter = IntersectionOf(a, b);
        var areaA = AreaOf(a);
        // In place on the full-size temporaries, each freed as soon as it is used: a [.., N, M] pass allocates nothing new,
        // and at most three matrices are alive at once (the peak memory of large batches).
        using var denominator = mode == OverlapMode.IoU ? (areaA + AreaOf(b)).sub_(inter).clamp_min_(OverlapEps) : areaA.clamp_min(OverlapEps);
        return inter.div_(denominator);
    }

    /// <summary>Intersection area of broadcastable boxes (0 when they do not meet).</summary>
    /// <param name="a">[..., 4].</param>
    /// <param name="b">[..., 4] broadcastable with <paramref name="a"/>.</param>
    /// <returns>the broadcast shape without the last dimension.</returns>
    public static Tensor Intersection(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return IntersectionOf(Corners(a), Corners(b)).MoveToOuterDisposeScope();
    }

    private static Tensor IntersectionOf(Corners4 a, Corners4 b)
    {
        var w = Overlap(a.X1, a.X2, b.X1, b.X2);
        using var h = Overlap(a.Y1, a.Y2, b.Y1, b.Y2);
        return w.mul_(h);
    }

    /// <summary>Length of the overlap of the intervals <c>[lo1, hi1]</c> and <c>[lo2, hi2]</c> (0 when they do not meet).</summary>
    private static Tensor Overlap(Tensor lo1, Tensor hi1, Tensor lo2, Tensor hi2)
    {
        var length = minimum(hi1, hi2);
        using (var start = maximum(lo1, lo2)) length.sub_(start);
        return length.clamp_min_(0);
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

    /// <summary>The four corners of boxes, as views.</summary>
    private static Corners4 Corners(Tensor boxes) =>
        new(boxes[TensorIndex.Ellipsis, 0], boxes[TensorIndex.Ellipsis, 1], boxes[TensorIndex.Ellipsis, 2], boxes[TensorIndex.Ellipsis, 3]);

    /// <summary>The four corners of boxes as contiguous planes (one copy of the boxes), so element-wise passes run unit-stride.</summary>
    private static Corners4 CornerPlanes(Tensor boxes)
    {
        var planes = boxes.movedim([-1], [0]).contiguous();
        return new(planes[0], planes[1], planes[2], planes[3]);
    }

    /// <summary>x1, y1, x2, y2 of broadcastable boxes.</summary>
    private readonly record struct Corners4(Tensor X1, Tensor Y1, Tensor X2, Tensor Y2);
}
