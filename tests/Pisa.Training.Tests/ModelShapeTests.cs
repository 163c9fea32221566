using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

public class ModelShapeTests
{
    // 128 px inputs, 6 anchors per cell (3 ratios × 2 sizes). Single-stage, strides 8 and 16 → 16×16 and 8×8 cells:
    // 16·16·6 + 8·8·6 = 1536 + 384 = 1920 anchors. Two-stage, strides 4 and 8 → 32·32·6 + 16·16·6 = 6144 + 1536 = 7680.
    private const int Anchors = 1920;
    private const int TwoStageAnchors = 7680;

    [Fact]
    public void The_backbone_returns_stride_4_8_and_16_maps()
    {
        using var _ = NewDisposeScope();
        var c = new SmallBackbone(width: 24).forward(zeros(2, 3, 128, 128));
        Assert.Equal([2L, 36, 32, 32], c[0].shape);
        Assert.Equal([2L, 72, 16, 16], c[1].shape);
        Assert.Equal([2L, 144, 8, 8], c[2].shape);
    }

    [Fact]
    public void The_pyramid_starts_at_the_requested_stride()
    {
        using var _ = NewDisposeScope();
        var fine = new FeatureExtractor(backboneWidth: 8, outChannels: 16, finestStride: 4);
        var coarse = new FeatureExtractor(backboneWidth: 8, outChannels: 16, finestStride: 8);
        Assert.Equal([4, 8], fine.Strides);
        Assert.Equal([8, 16], coarse.Strides);
        Assert.Equal([[1L, 16, 32, 32], [1L, 16, 16, 16]], fine.forward(zeros(1, 3, 128, 128)).Select(l => l.shape));
        Assert.Equal([[1L, 16, 16, 16], [1L, 16, 8, 8]], coarse.forward(zeros(1, 3, 128, 128)).Select(l => l.shape));
        Assert.Throws<ArgumentException>(() => new FeatureExtractor(finestStride: 16));
    }

    [Fact]
    public void Anchors_are_centred_on_cells_with_the_requested_sizes_and_ratios()
    {
        using var _ = NewDisposeScope();
        // Stride 8, one 10 px size, ratios 1 and 2 (h/w) on a 1×2 map: centres (4, 4) and (12, 4).
        // Ratio 1: 10×10 → ±5. Ratio 2: w = 10/√2 = 7.0711, h = 10·√2 = 14.1421 → ±3.5355, ±7.0711.
        var anchors = new AnchorGenerator([8], [[10]], [1, 2]).Generate([(1, 2)]);
        float[] expected =
        [
            -1, -1, 9, 9,   0.46447f, -3.07107f, 7.53553f, 11.07107f,
            7, -1, 17, 9,   8.46447f, -3.07107f, 15.53553f, 11.07107f,
        ];
        Assert.Equal(expected.Length, (int)anchors.numel());
        foreach (var (e, a) in expected.Zip(anchors.data<float>().ToArray())) Assert.Equal(e, a, 4);
    }

    [Fact]
    public void The_default_anchor_set_matches_the_heads_outputs()
    {
        using var _ = NewDisposeScope();
        Assert.Equal([(long)Anchors, 4], AnchorGenerator.ForSmallImages([8, 16]).ForImage(128, 128).shape);
        Assert.Equal([(long)TwoStageAnchors, 4], AnchorGenerator.ForSmallImages([4, 8]).ForImage(128, 128).shape);
    }

    [Fact]
    public void The_two_stage_detector_gives_rpn_and_box_head_outputs_of_the_documented_shapes()
    {
        using var _ = NewDisposeScope();
        var model = new TwoStageDetector(new DetectorOptions(NumClasses: 6));
        var levels = model.Features(zeros(2, 3, 128, 128));
        var (objectness, rpnDeltas) = model.Rpn(levels);
        Assert.Equal([2L, TwoStageAnchors], objectness.shape);
        Assert.Equal([2L, TwoStageAnchors, 4], rpnDeltas.shape);

        var rois = tensor(new float[] { 10, 10, 50, 60, 0, 0, 128, 128, 30, 40, 38, 52 }).reshape(1, 3, 4).expand(2, 3, 4);
        var (logits, deltas) = model.BoxHead(levels, rois);
        Assert.Equal([2L, 3, 7], logits.shape);   // C + 1
        Assert.Equal([2L, 3, 24], deltas.shape);  // 4 C, class-specific
    }

    [Fact]
    public void The_single_stage_detector_gives_sigmoid_logits_per_class_and_starts_at_the_prior()
    {
        using var _ = NewDisposeScope();
        var model = new SingleStageDetector(new DetectorOptions(NumClasses: 6));
        var (logits, deltas) = model.forward(zeros(2, 3, 128, 128));
        // By default RetinaNet reads P2-P3 as the two-stage detector does.
        Assert.Equal([2L, TwoStageAnchors, 6], logits.shape);
        Assert.Equal([2L, TwoStageAnchors, 4], deltas.shape);

        // -ln((1 - 0.01) / 0.01) = -ln 99 = -4.59512
        Assert.Equal(-4.59512, RetinaHead.PriorBias(0.01), 5);
        var bias = model.named_parameters().Single(p => p.name.EndsWith("classifier.bias")).parameter;
        Assert.All(bias.data<float>().ToArray(), b => Assert.Equal(-4.59512f, b, 4));
    }

    [Fact]
    public void Without_the_fpn_the_detectors_use_one_stride_16_level()
    {
        using var _ = NewDisposeScope();
        var model = new SingleStageDetector(new DetectorOptions(NumClasses: 3, UseFpn: false));
        var (logits, _) = model.forward(zeros(1, 3, 128, 128));
        // 8·8 cells × 3 ratios × 4 sizes = 768 anchors.
        Assert.Equal([1L, 768, 3], logits.shape);
    }

    [Fact]
    public void The_box_head_keeps_any_leading_dimensions()
    {
        using var _ = NewDisposeScope();
        var head = new TwoFcBoxHead(inChannels: 8, roiSize: 7, numClasses: 4, hiddenDim: 32);
        var (logits, deltas) = head.forward(zeros(5, 8, 7, 7));
        Assert.Equal([5L, 5], logits.shape);
        Assert.Equal([5L, 16], deltas.shape);
    }
}
