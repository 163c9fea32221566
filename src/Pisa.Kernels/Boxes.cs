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
        // Corner pairs [2, .., N, 1] (lo = x1 y1, hi = x2 y2) against [2, .., 1, M]: x and y go through each pass together.
        // b's planes are one contiguous copy, so every pass over the [2, .., N, M] matrices reads unit-stride rows.
        var rows = a.movedim([-1], [0]).unsqueeze(-1);
        var columns = b.movedim([-1], [0]).contiguous().unsqueeze(-2);
        return OverlapsOf(new CornerPairs(rows[..2], rows[2..]), new CornerPairs(columns[..2], columns[2..]), mode).MoveToOuterDisposeScope();
    }

    /// <summary>Overlap of each box of <paramref name="a"/> with the box at the same index of <paramref name="b"/>.</summary>
    /// <param name="a">[..., N, 4].</param>
    /// <param name="b">[..., N, 4].</param>
    /// <returns>[..., N].</returns>
    public static Tensor AlignedOverlaps(Tensor a, Tensor b, OverlapMode mode = OverlapMode.IoU)
    {
        using var scope = NewDisposeScope();
        var rows = a.movedim([-1], [0]);
        var columns = b.movedim([-1], [0]);
        return OverlapsOf(new CornerPairs(rows[..2], rows[2..]), new CornerPairs(columns[..2], columns[2..]), mode).MoveToOuterDisposeScope();
    }

    /// <summary>Overlap of the two boxes at each index of a pair of box sets.</summary>
    /// <param name="pair">[2, ..., 4]: the first and the second set.</param>
    /// <returns>[...], as <see cref="AlignedOverlaps"/> of the two.</returns>
    public static Tensor AlignedOverlapsOfPair(Tensor pair, OverlapMode mode = OverlapMode.IoU)
    {
        using var scope = NewDisposeScope();
        // [4, 2, ...]: corners first, then which set; the intersection takes min / max across the two sets in one op each.
        var planes = pair.movedim([-1], [0]);
        Tensor lo = planes[..2], hi = planes[2..];
        var wh = hi.amin([1]);
        using (var maxLo = lo.amax([1])) wh.sub_(maxLo).clamp_min_(0);
        var inter = ProductOfPair(wh);
        var areas = ProductOfPair(hi - lo); // [2, ...]: each set's areas
        // x + y of a pair is exact in any order too (the sum of two floats, after 0 + x).
        using var denominator = mode == OverlapMode.IoU ? areas.sum(dim: 0).sub_(inter).clamp_min_(OverlapEps) : areas[0].clamp_min(OverlapEps);
        return (inter / denominator).MoveToOuterDisposeScope();
    }

    /// <summary>Overlaps of broadcastable corner pairs; the union (or area) is clamped at <see cref="OverlapEps"/>.</summary>
    private static Tensor OverlapsOf(CornerPairs a, CornerPairs b, OverlapMode mode)
    {
        // The intersection's width and height in one pass each: min(hi) - max(lo), clamped at 0, then their product.
        var wh = minimum(a.Hi, b.Hi);
        using (var lo = maximum(a.Lo, b.Lo)) wh.sub_(lo).clamp_min_(0);
        var inter = ProductOfPair(wh);
        var areaA = ProductOfPair(a.Hi - a.Lo);
        // Each full-size temporary is freed as soon as it is used: at most three matrices are alive at once.
        using var denominator = mode == OverlapMode.IoU ? (areaA + ProductOfPair(b.Hi - b.Lo)).sub_(inter).clamp_min_(OverlapEps) : areaA.clamp_min(OverlapEps);
        return inter / denominator;
    }

    /// <summary><c>x * y</c> of a pair <c>[2, ...]</c> (one op; a product of two floats is exact in any order).</summary>
    private static Tensor ProductOfPair(Tensor pair) => pair.prod(dim: 0);

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
            long rows = label.numel();
            var rowStarts = Constants.Of($"class-runs:{rows}x{classes}", int64, label.device, () => arange(rows, int64, label.device).mul_(classes));
            return bboxPred.view(-1, 4).index_select(0, label.flatten().add_(rowStarts)).view([.. labels.shape, 4]).MoveToOuterDisposeScope();
        }
        var perClass = bboxPred.reshape([.. bboxPred.shape[..^1], classes, 4]);
        var index = label.unsqueeze(-1).unsqueeze(-1).expand([.. labels.shape, 1, 4]);
        return perClass.gather(-2, index).squeeze(-2).MoveToOuterDisposeScope();
    }

    /// <summary>The four corners of boxes, as views.</summary>
    private static Corners4 Corners(Tensor boxes) =>
        new(boxes[TensorIndex.Ellipsis, 0], boxes[TensorIndex.Ellipsis, 1], boxes[TensorIndex.Ellipsis, 2], boxes[TensorIndex.Ellipsis, 3]);

    /// <summary>The (x1, y1) and (x2, y2) planes of boxes, <c>[2, ...]</c> each.</summary>
    private readonly record struct CornerPairs(Tensor Lo, Tensor Hi);

    /// <summary>x1, y1, x2, y2 of broadcastable boxes.</summary>
    private readonly record struct Corners4(Tensor X1, Tensor Y1, Tensor X2, Tensor Y2);
}
