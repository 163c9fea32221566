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

    /// <summary>Delta-xywh encoding of <paramref name="gt"/> relative to <paramref name="proposals"/>, normalised by means and stds.</summary>
    /// <param name="proposals">[..., 4].</param>
    /// <param name="gt">[..., 4].</param>
    /// <returns>[..., 4] deltas <c>(dx, dy, dw, dh)</c>.</returns>
    public static Tensor EncodeDeltaXywh(Tensor proposals, Tensor gt, double[]? means = null, double[]? stds = null)
    {
        using var scope = NewDisposeScope();
        long boxDims = Math.Max(proposals.dim(), gt.dim()) - 1;
        var (pxy, pwh) = CentreSize(Planes(proposals, boxDims));
        var (gxy, gwh) = CentreSize(Planes(gt, boxDims));
        var deltas = cat([(gxy - pxy) / pwh, (gwh / pwh).log()]);
        var normalised = (deltas - Column(means ?? DefaultMeans, deltas)) / Column(stds ?? DefaultStds, deltas);
        return FromPlanes(normalised).MoveToOuterDisposeScope();
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
        long boxDims = Math.Max(rois.dim(), deltas.dim()) - 1;
        var d = Planes(deltas, boxDims);
        d = d * Column(stds ?? DefaultStds, d) + Column(means ?? DefaultMeans, d);
        double maxRatio = Math.Abs(Math.Log(whRatioClip));
        var (pxy, pwh) = CentreSize(Planes(rois, boxDims));
        var gxy = pxy + pwh * d[..2];
        var halfWh = pwh * d[2..].clamp(-maxRatio, maxRatio).exp() * 0.5;
        var lo = gxy - halfWh;
        var hi = gxy + halfWh;
        if (maxShape is not null)
        {
            var zero = zeros_like(lo);
            var wh = SizePlanes(maxShape.to(lo.dtype), lo.dim() - 1);
            (lo, hi) = (minimum(maximum(lo, zero), wh), minimum(maximum(hi, zero), wh));
        }
        return FromPlanes(cat([lo, hi])).MoveToOuterDisposeScope();
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

    /// <summary>
    /// Boxes (or deltas) <c>[..., 4]</c> as four contiguous planes <c>[4, ...]</c> (one copy): the coding then runs every step
    /// unit-stride on the (x, y) or (w, h) planes of all boxes at once, instead of on every fourth float. Leading size-1
    /// dimensions are added up to <paramref name="boxDims"/> box dimensions, so that box tensors which broadcast as
    /// <c>[..., 4]</c> (anchors <c>[N, 4]</c> against deltas <c>[B, N, 4]</c>) still broadcast as planes.
    /// </summary>
    private static Tensor Planes(Tensor boxes, long boxDims)
    {
        long[] shape = [.. Enumerable.Repeat(1L, (int)Math.Max(0, boxDims + 1 - boxes.dim())), .. boxes.shape];
        return boxes.reshape(shape).movedim([-1], [0]).contiguous();
    }

    /// <summary>Image sizes <c>[..., 2]</c> (h, w) as (w, h) planes <c>[2, 1.., ...]</c> that broadcast the way the sizes' leading
    /// dimensions broadcast against <paramref name="boxDims"/> box dimensions.</summary>
    private static Tensor SizePlanes(Tensor maxShape, long boxDims)
    {
        var lead = maxShape.shape[..^1];
        long[] shape = [2, .. Enumerable.Repeat(1L, (int)Math.Max(0, boxDims - lead.Length)), .. lead];
        return maxShape.flip([-1]).movedim([-1], [0]).reshape(shape);
    }

    /// <summary>Planes <c>[4, ...]</c> back to contiguous boxes <c>[..., 4]</c>.</summary>
    private static Tensor FromPlanes(Tensor planes) => planes.movedim([0], [-1]).contiguous();

    /// <summary>Centre <c>(x, y)</c> and size <c>(w, h)</c> planes <c>[2, ...]</c> of corner planes; the centre is the corners'
    /// mean, as the reference coder computes it.</summary>
    private static (Tensor Xy, Tensor Wh) CentreSize(Tensor planes)
    {
        Tensor lo = planes[..2], hi = planes[2..];
        return ((lo + hi) * 0.5, hi - lo);
    }

    /// <summary>x1, y1, x2, y2 of broadcastable boxes.</summary>
    private readonly record struct Corners4(Tensor X1, Tensor Y1, Tensor X2, Tensor Y2);

    /// <summary>A 4-vector of constants on <paramref name="planes"/>' device and dtype, one per plane of <c>[4, ...]</c>.</summary>
    private static Tensor Column(double[] values, Tensor planes)
    {
        var shape = new long[planes.dim()];
        Array.Fill(shape, 1L);
        shape[0] = values.Length;
        return tensor(values, planes.dtype, planes.device).view(shape);
    }
}
