using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>
/// The delta-xywh box coder (ALGORITHMS.md, "Boxes"): deltas <c>(dx, dy, dw, dh)</c> of a box relative to a prior,
/// normalised as <c>(delta - means) / stds</c>, and the inverse with dw and dh clamped to ±|ln(<see cref="WhRatioClip"/>)|.
/// A head trains with the coder its targets were encoded with and must decode with the same one: this type is the one
/// place those constants live. Boxes are <c>[x1, y1, x2, y2]</c>; every function broadcasts over leading dimensions.
/// </summary>
public sealed class BoxCoder
{
    /// <summary>The default <c>wh_ratio_clip</c> of the decoder: |ln(16/1000)| bounds dw and dh.</summary>
    public const double DefaultWhRatioClip = 16.0 / 1000.0;

    /// <summary>The two-stage R-CNN box head's coder: means 0, stds (0.1, 0.1, 0.2, 0.2).</summary>
    public static BoxCoder Rcnn { get; } = new([0, 0, 0, 0], [0.1, 0.1, 0.2, 0.2]);

    /// <summary>The RPN's and RetinaNet's coder: means 0, stds 1.</summary>
    public static BoxCoder Unit { get; } = new([0, 0, 0, 0], [1, 1, 1, 1]);

    private readonly double[] _means;
    private readonly double[] _stds;

    /// <param name="means">4 delta means.</param>
    /// <param name="stds">4 delta stds.</param>
    /// <param name="whRatioClip">the decoder's clip: dw and dh are clamped to ±|ln(whRatioClip)|.</param>
    public BoxCoder(IReadOnlyList<double> means, IReadOnlyList<double> stds, double whRatioClip = DefaultWhRatioClip)
    {
        if (means.Count != 4 || stds.Count != 4) throw new ArgumentException("a box coder needs 4 means and 4 stds");
        (_means, _stds, WhRatioClip) = ([.. means], [.. stds], whRatioClip);
    }

    /// <summary>The 4 delta means.</summary>
    public IReadOnlyList<double> Means => _means;

    /// <summary>The 4 delta stds.</summary>
    public IReadOnlyList<double> Stds => _stds;

    /// <summary>dw and dh are clamped to ±|ln(WhRatioClip)| before exp.</summary>
    public double WhRatioClip { get; }

    /// <summary>Delta-xywh encoding of <paramref name="gt"/> relative to <paramref name="proposals"/>, normalised by the means and stds.</summary>
    /// <param name="proposals">[..., 4].</param>
    /// <param name="gt">[..., 4].</param>
    /// <returns>[..., 4] deltas <c>(dx, dy, dw, dh)</c>.</returns>
    public Tensor Encode(Tensor proposals, Tensor gt)
    {
        using var scope = NewDisposeScope();
        // (x, y) and (w, h) pairs [..., 2] side by side: each step codes both coordinates in one op.
        var (pxy, pwh) = CentreSize(proposals);
        var (gxy, gwh) = CentreSize(gt);
        var deltas = cat([(gxy - pxy) / pwh, (gwh / pwh).log()], -1);
        if (_means.Any(m => m != 0)) deltas.sub_(Constants.Vector(_means, deltas.dtype, deltas.device));
        return deltas.div_(Constants.Vector(_stds, deltas.dtype, deltas.device)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Inverse of <see cref="Encode"/>: dw and dh are clamped to ±|ln(<see cref="WhRatioClip"/>)| before exp (the centre
    /// shift is not); with <paramref name="maxShape"/> the boxes are clipped to the image.
    /// </summary>
    /// <param name="rois">[..., 4].</param>
    /// <param name="deltas">[..., 4].</param>
    /// <param name="maxShape">optional [..., 2] image (h, w), broadcastable to the leading dimensions of the boxes.</param>
    /// <returns>[..., 4] boxes.</returns>
    public Tensor Decode(Tensor rois, Tensor deltas, Tensor? maxShape = null)
    {
        if (maxShape is not null) return DecodeInPlanes(rois, deltas, maxShape);
        using var scope = NewDisposeScope();
        var d = deltas * Constants.Vector(_stds, deltas.dtype, deltas.device);
        // + 0 would only turn a -0 delta into +0, which decodes to the same box: zero means are skipped.
        if (_means.Any(m => m != 0)) d.add_(Constants.Vector(_means, d.dtype, d.device));
        double maxRatio = Math.Abs(Math.Log(WhRatioClip));
        var (pxy, pwh) = CentreSize(rois);
        var gxy = (pwh * d[TensorIndex.Ellipsis, ..2]).add_(pxy);
        var halfWh = (pwh * d[TensorIndex.Ellipsis, 2..].clamp(-maxRatio, maxRatio).exp_()).mul_(0.5);
        return cat([gxy - halfWh, gxy.add_(halfWh)], -1).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Decode"/> with the boxes clipped to <paramref name="maxShape"/>, on contiguous coordinate planes.</summary>
    private Tensor DecodeInPlanes(Tensor rois, Tensor deltas, Tensor maxShape)
    {
        using var scope = NewDisposeScope();
        long boxDims = Math.Max(rois.dim(), deltas.dim()) - 1;
        var d = Planes(deltas, boxDims);
        d = d * Column(_stds, d) + Column(_means, d);
        double maxRatio = Math.Abs(Math.Log(WhRatioClip));
        var planes = Planes(rois, boxDims);
        var (pxy, pwh) = ((planes[..2] + planes[2..]) * 0.5, planes[2..] - planes[..2]);
        var gxy = pxy + pwh * d[..2];
        var halfWh = pwh * d[2..].clamp(-maxRatio, maxRatio).exp() * 0.5;
        var lo = gxy - halfWh;
        var hi = gxy + halfWh;
        var zero = zeros_like(lo);
        var wh = SizePlanes(maxShape.to(lo.dtype), lo.dim() - 1);
        (lo, hi) = (minimum(maximum(lo, zero), wh), minimum(maximum(hi, zero), wh));
        return FromPlanes(cat([lo, hi])).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Decode"/>, then clipped to one image of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="rois">[..., 4].</param>
    /// <param name="deltas">[..., 4].</param>
    /// <returns>[..., 4] boxes inside <c>[0, width] × [0, height]</c>.</returns>
    public Tensor Decode(Tensor rois, Tensor deltas, int height, int width)
    {
        using var scope = NewDisposeScope();
        return ClipToImage(Decode(rois, deltas), height, width).MoveToOuterDisposeScope();
    }

    /// <summary>Boxes clipped to an image of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="boxes">[..., 4].</param>
    /// <returns>[..., 4].</returns>
    public static Tensor ClipToImage(Tensor boxes, int height, int width)
    {
        using var scope = NewDisposeScope();
        var x = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(0, 4, 2)].clamp(0, width);
        var y = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(1, 4, 2)].clamp(0, height);
        return stack([x[TensorIndex.Ellipsis, 0], y[TensorIndex.Ellipsis, 0], x[TensorIndex.Ellipsis, 1], y[TensorIndex.Ellipsis, 1]], -1).MoveToOuterDisposeScope();
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

    /// <summary>Centre <c>(x, y)</c> and size <c>(w, h)</c> pairs <c>[..., 2]</c> of boxes <c>[..., 4]</c>; the centre is the
    /// corners' mean, as the reference coder computes it.</summary>
    private static (Tensor Xy, Tensor Wh) CentreSize(Tensor boxes)
    {
        Tensor lo = boxes[TensorIndex.Ellipsis, ..2], hi = boxes[TensorIndex.Ellipsis, 2..];
        return ((lo + hi).mul_(0.5), hi - lo);
    }

    /// <summary>A 4-vector of constants on <paramref name="planes"/>' device and dtype, one per plane of <c>[4, ...]</c>.</summary>
    private static Tensor Column(double[] values, Tensor planes)
    {
        var shape = new long[planes.dim()];
        Array.Fill(shape, 1L);
        shape[0] = values.Length;
        return tensor(values, planes.dtype, planes.device).view(shape);
    }
}
