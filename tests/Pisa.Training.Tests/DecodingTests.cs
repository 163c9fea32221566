using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using Pisa.Training.Inference;
using Pisa.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

public class DecodingTests
{
    private static readonly CategoryMap ThreeAndSeven = new([new CocoCategory(3, "three", null), new CocoCategory(7, "seven", null)]);

    [Fact]
    public void Deltas_move_the_centre_by_prior_sizes_and_scale_by_exp()
    {
        // Prior [0, 0, 10, 20]: centre (5, 10), size 10×20. Unit stds, deltas (0.1, -0.2, ln 2, 0):
        // centre (5 + 10·0.1, 10 - 20·0.2) = (6, 6), size (20, 20) → [-4, -4, 16, 16].
        var boxes = BoxCoder.Unit.Decode(tensor(new float[] { 0, 0, 10, 20 }), tensor(new float[] { 0.1f, -0.2f, MathF.Log(2), 0 }));
        AssertClose([-4, -4, 16, 16], boxes);
        // The R-CNN coder's stds (a tenth for the centre, a fifth for the size) scale the deltas first: (1, -2, 5 ln 2, 0) is the same box.
        boxes = BoxCoder.Rcnn.Decode(tensor(new float[] { 0, 0, 10, 20 }), tensor(new float[] { 1, -2, 5 * MathF.Log(2), 0 }));
        AssertClose([-4, -4, 16, 16], boxes);
    }

    [Fact]
    public void Width_and_height_deltas_are_clamped_at_the_ratio_clip()
    {
        // dw = 10 clamps to ln(1000/16): the width grows by exactly 62.5, 10 → 625, centred at 5: [-307.5, 317.5].
        var boxes = BoxCoder.Unit.Decode(tensor(new float[] { 0, 0, 10, 20 }), tensor(new float[] { 0, 0, 10, 0 }));
        AssertClose([-307.5f, 0, 317.5f, 20], boxes, precision: 2);
    }

    [Fact]
    public void Nms_keeps_the_best_box_per_class_and_suppresses_only_above_the_threshold()
    {
        var boxes = tensor(new float[]
        {
            0, 0, 10, 10,     // 0: score 0.9
            1, 0, 11, 10,     // 1: IoU with 0 = 90 / 110 = 0.82 → suppressed
            1, 0, 11, 10,     // 2: same box, other class → kept
            20, 20, 30, 30,   // 3: alone, best score
            0, 0, 10, 5,      // 4: IoU with 0 = 50 / 100 = 0.5 exactly → not suppressed (strict >)
        }).reshape(5, 4);
        var scores = tensor(new float[] { 0.9f, 0.8f, 0.7f, 0.95f, 0.6f });
        var labels = tensor(new long[] { 0, 0, 1, 0, 0 });
        Assert.Equal([3L, 0, 2, 4], Nms.Batched(boxes, scores, labels, 0.5).data<long>().ToArray());
    }

    [Fact]
    public void Box_head_outputs_become_coco_detections_in_original_coordinates()
    {
        // One RoI [10, 10, 30, 30] with zero deltas; softmax of (ln 6, ln 3, ln 1) = (0.6, 0.3, 0.1), background last.
        // Original 64×32 was resized to 128×128 (×2, ×4): [10, 10, 30, 30] → [5, 2.5, 15, 7.5] → xywh [5, 2.5, 10, 5].
        var (rois, logits, deltas) = OneRoi();
        var transform = new ImageTransform(42, 64, 32, 2, 4, Flipped: false, 128, 128);

        var detections = DetectionDecoder.FromBoxHead(rois, logits, deltas, [transform], ThreeAndSeven, new DecodeOptions());

        Assert.Equal(2, detections.Count);
        AssertDetection(detections[0], 42, 3, [5, 2.5, 10, 5], 0.6);
        AssertDetection(detections[1], 42, 7, [5, 2.5, 10, 5], 0.3);
    }

    [Fact]
    public void A_flipped_input_maps_back_mirrored_and_top_k_keeps_the_best()
    {
        // Flipped in a 128 px input, [10, 10, 30, 30] was [98, 10, 118, 30] → ÷(2, 4) → [49, 2.5, 59, 7.5].
        var (rois, logits, deltas) = OneRoi();
        var transform = new ImageTransform(42, 64, 32, 2, 4, Flipped: true, 128, 128);

        var detections = DetectionDecoder.FromBoxHead(rois, logits, deltas, [transform], ThreeAndSeven, new DecodeOptions(MaxPerImage: 1));

        AssertDetection(Assert.Single(detections), 42, 3, [49, 2.5, 10, 5], 0.6);
    }

    [Fact]
    public void Dense_head_outputs_keep_anchor_class_pairs_above_the_threshold()
    {
        // Anchor 0 scores (0.9, 0.01), anchor 1 (0.02, 0.6); threshold 0.05 keeps (0, class 0) and (1, class 1).
        var anchors = tensor(new float[] { 10, 10, 30, 30, 50, 50, 70, 70 }).reshape(2, 4);
        var logits = tensor(new[] { 0.9, 0.01, 0.02, 0.6 }.Select(p => (float)Math.Log(p / (1 - p))).ToArray()).reshape(1, 2, 2);
        var transform = new ImageTransform(1, 128, 128, 1, 1, false, 128, 128);

        var detections = DetectionDecoder.FromDenseHead(anchors, logits, zeros(1, 2, 4), [transform], ThreeAndSeven, new DecodeOptions());

        Assert.Equal(2, detections.Count);
        AssertDetection(detections[0], 1, 3, [10, 10, 20, 20], 0.9);
        AssertDetection(detections[1], 1, 7, [50, 50, 20, 20], 0.6);
    }

    private static (Tensor Rois, Tensor Logits, Tensor Deltas) OneRoi() => (
        tensor(new float[] { 10, 10, 30, 30 }).reshape(1, 1, 4),
        tensor(new[] { MathF.Log(6), MathF.Log(3), 0f }).reshape(1, 1, 3),
        zeros(1, 1, 8));

    private static void AssertDetection(CocoDetection detection, long imageId, long categoryId, double[] bbox, double score)
    {
        Assert.Equal(imageId, detection.ImageId);
        Assert.Equal(categoryId, detection.CategoryId);
        Assert.Equal(score, detection.Score, 5);
        for (int i = 0; i < 4; i++) Assert.Equal(bbox[i], detection.Bbox[i], 4);
    }

    private static void AssertClose(float[] expected, Tensor actual, int precision = 4)
    {
        float[] values = actual.data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < values.Length; i++) Assert.Equal(expected[i], values[i], precision);
    }
}
