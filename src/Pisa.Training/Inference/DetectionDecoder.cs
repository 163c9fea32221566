using Pisa.Evaluation.Coco;
using Pisa.Kernels;
using Pisa.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Inference;

/// <summary>Test-time post-processing settings (mmdetection's test_cfg defaults for R-CNN and RetinaNet).</summary>
/// <param name="ScoreThreshold">Candidates need a class score strictly above this.</param>
/// <param name="NmsIoU">Same-class boxes overlapping a kept one by more than this are dropped.</param>
/// <param name="MaxPerImage">Detections kept per image, best first.</param>
/// <param name="PreNmsTopK">Single-stage only: the best (anchor, class) pairs kept before decoding and NMS.</param>
public sealed record DecodeOptions(double ScoreThreshold = 0.05, double NmsIoU = 0.5, int MaxPerImage = 100, int PreNmsTopK = 1000);

/// <summary>
/// Head outputs → COCO detections: class scores, per-class threshold, box decoding, clipping to the network input,
/// NMS per class, top-k per image, then back to original image coordinates (undoing flip and resize) and category ids.
/// </summary>
public static class DetectionDecoder
{
    /// <summary>
    /// Two-stage: RoIs <c>[B, R, 4]</c> (input pixels), box head logits <c>[B, R, C+1]</c> (background last) and
    /// class-specific deltas <c>[B, R, 4C]</c>, decoded with <paramref name="coder"/> (the one the head's targets were
    /// encoded with; default <see cref="BoxCoder.Rcnn"/>); <paramref name="roiMask"/> <c>[B, R]</c> marks real RoIs when
    /// the batch is padded.
    /// </summary>
    public static List<CocoDetection> FromBoxHead(
        Tensor rois, Tensor classLogits, Tensor deltas, IReadOnlyList<ImageTransform> transforms, CategoryMap categories,
        DecodeOptions options, Tensor? roiMask = null, BoxCoder? coder = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int c = categories.Count;
        var detections = new List<CocoDetection>();
        for (int i = 0; i < transforms.Count; i++)
        {
            var scores = classLogits[i].softmax(-1)[.., ..c];                                   // [R, C]
            if (roiMask is not null) scores = scores * roiMask[i].unsqueeze(-1).to(scores.dtype);
            long r = rois.shape[1];
            var priors = rois[i].unsqueeze(1).expand(r, c, 4);
            var boxes = (coder ?? BoxCoder.Rcnn).Decode(priors, deltas[i].reshape(r, c, 4)); // [R, C, 4]
            var labels = arange(c, dtype: ScalarType.Int64, device: scores.device).expand(r, c);
            detections.AddRange(Select(boxes.reshape(-1, 4), scores.reshape(-1), labels.reshape(-1), transforms[i], categories, options, preNmsTopK: null));
        }
        return detections;
    }

    /// <summary>
    /// Single-stage: anchors <c>[N, 4]</c>, sigmoid class logits <c>[B, N, C]</c> and class-agnostic deltas
    /// <c>[B, N, 4]</c>, decoded with <paramref name="coder"/> (default <see cref="BoxCoder.Unit"/>). Keeps the <see cref="DecodeOptions.PreNmsTopK"/> best (anchor, class) pairs first.
    /// </summary>
    public static List<CocoDetection> FromDenseHead(
        Tensor anchors, Tensor classLogits, Tensor deltas, IReadOnlyList<ImageTransform> transforms, CategoryMap categories,
        DecodeOptions options, BoxCoder? coder = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int c = categories.Count;
        var detections = new List<CocoDetection>();
        for (int i = 0; i < transforms.Count; i++)
        {
            var scores = classLogits[i].sigmoid().reshape(-1);                                  // [N·C], anchor-major
            long k = Math.Min(options.PreNmsTopK, scores.shape[0]);
            var (top, flat) = scores.topk((int)k);
            var anchorIndex = flat.div(c, rounding_mode: RoundingMode.floor);
            var boxes = (coder ?? BoxCoder.Unit).Decode(anchors.index_select(0, anchorIndex), deltas[i].index_select(0, anchorIndex));
            detections.AddRange(Select(boxes, top, flat.remainder(c), transforms[i], categories, options, preNmsTopK: k));
        }
        return detections;
    }

    /// <summary>Candidates of one image (input coordinates) → its final detections in original coordinates.</summary>
    private static IEnumerable<CocoDetection> Select(
        Tensor boxes, Tensor scores, Tensor labels, ImageTransform transform, CategoryMap categories, DecodeOptions options, long? preNmsTopK)
    {
        var keep = (scores > options.ScoreThreshold).nonzero().squeeze(-1);
        if (keep.shape[0] == 0) return [];
        boxes = BoxCoder.ClipToImage(boxes.index_select(0, keep), transform.InputHeight, transform.InputWidth);
        scores = scores.index_select(0, keep);
        labels = labels.index_select(0, keep);
        long[] kept = Nms.Batched(boxes, scores, labels, options.NmsIoU).cpu().data<long>().Take(options.MaxPerImage).ToArray();
        float[] b = boxes.cpu().contiguous().data<float>().ToArray();
        float[] s = scores.cpu().data<float>().ToArray();
        long[] l = labels.cpu().data<long>().ToArray();
        return kept.Select(k =>
        {
            var original = transform.ToOriginal(new BoxXyxy(b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]))
                .ClipTo(transform.OriginalWidth, transform.OriginalHeight);
            return new CocoDetection(transform.ImageId, categories.CategoryIdOf((int)l[k]), original.ToXywh(), s[k]);
        }).ToList();
    }
}
