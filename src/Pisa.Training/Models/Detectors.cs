using Pisa.Recipes;
using TorchSharp;
using TorchSharp.Modules;
using Pisa.Training.Platform;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>Sizes of the runner's small detectors (defaults fit 128 px inputs and the CPU budget).</summary>
/// <param name="RoiChannels">The two-stage box head pools from features thinned to this many channels by a 1×1 conv
/// (as Light-Head R-CNN does): RoIAlign and the first FC layer cost scale with it, and they dominate with hundreds of RoIs.
/// At 16, a batch of 8 with 512 RoIs per image takes about 0.3 s of CPU for forward + backward (0.4 s at 32).</param>
/// <param name="TwoStageFinestStride">The two-stage detector's pyramid is P2–P3 (4) or P3–P4 (8): at stride 4 the RPN has
/// anchors close enough to every small object and small RoIs pool from a finer map.</param>
/// <param name="SingleStageFinestStride">The same for the single-stage detector, whose dense head costs 4× more per level at stride 4.</param>
/// <param name="Backbone">small: the options above size the small CNN and its 2-level pyramid. A ResNet: mmdetection's
/// FPN (see <see cref="ResNetFpn"/>) of <see cref="FeatureChannels"/> channels with mmdetection's anchors, and the
/// two-stage head pools P2–P5 with mmdetection's level rule (finest scale 56); the small-backbone strides are ignored.</param>
/// <param name="FrozenStages">ResNet only: mmdetection's <c>frozen_stages</c>.</param>
/// <param name="NormEval">ResNet only: mmdetection's <c>norm_eval</c> (BatchNorm in eval mode, affine frozen).</param>
/// <param name="RetinaTowerGroups">Small backbone only: GroupNorm groups after each RetinaNet tower conv (FCOS / ATSS heads), 0 = none (mmdetection's RetinaNet).</param>
/// <param name="RetinaHeTowers">Small backbone only: the RetinaNet tower convs start from He's normal rather than mmdetection's
/// N(0, 0.01), which suits a pretrained backbone but starves one trained from scratch (see <see cref="RetinaHead"/>).</param>
public sealed record DetectorOptions(
    int NumClasses, bool UseFpn = true, int BackboneWidth = 24, int FeatureChannels = 64,
    int RoiSize = 7, int RoiSamplingRatio = 2, int RoiChannels = 16, int BoxHeadHiddenDim = 256, int RetinaStackedConvs = 2,
    int TwoStageFinestStride = 4, int SingleStageFinestStride = 4,
    BackboneKind Backbone = BackboneKind.Small, int FrozenStages = 1, bool NormEval = true, int RetinaTowerGroups = 0, bool RetinaHeTowers = true)
{
    /// <summary>mmdetection's sizes for a ResNet detector (<c>faster_rcnn_r50_fpn</c>, <c>retinanet_r50_fpn</c>): a 256-channel
    /// FPN, a box head of two 1024-unit FC layers on 256 × 7 × 7 RoI features, and four stacked convs per RetinaNet tower.</summary>
    public static DetectorOptions MmdetResNet(int numClasses, BackboneKind backbone, int frozenStages = 1, bool normEval = true) =>
        new(numClasses, FeatureChannels: 256, RoiChannels: 256, BoxHeadHiddenDim: 1024, RetinaStackedConvs: 4,
            Backbone: backbone, FrozenStages: frozenStages, NormEval: normEval);
}

/// <summary>The feature levels a detector's heads read, and their anchors.</summary>
internal static class DetectorFeatures
{
    /// <summary>
    /// The small backbone with its pyramid and anchors for 128 px images, or a ResNet-FPN with mmdetection's anchors
    /// (<see cref="AnchorGenerator.MmdetTwoStage"/> or <see cref="AnchorGenerator.MmdetRetinaNet"/>).
    /// </summary>
    public static (nn.Module<Tensor, Tensor[]> Features, int[] Strides, AnchorGenerator Anchors) Build(DetectorOptions options, bool twoStage)
    {
        if (ResNetBackbone.DepthOf(options.Backbone) is int depth)
        {
            var resnet = new ResNetFpn(new ResNetBackbone(depth, options.FrozenStages, options.NormEval), options.FeatureChannels, twoStage);
            return (resnet, resnet.Strides, twoStage ? AnchorGenerator.MmdetTwoStage(resnet.Strides) : AnchorGenerator.MmdetRetinaNet(resnet.Strides));
        }
        var small = new FeatureExtractor(options.UseFpn, options.BackboneWidth, options.FeatureChannels,
            twoStage ? options.TwoStageFinestStride : options.SingleStageFinestStride);
        return (small, small.Strides, AnchorGenerator.ForSmallImages(small.Strides));
    }
}

/// <summary>
/// Faster R-CNN parts: features → RPN (objectness, deltas per anchor) → thinned features → RoI features → box head.
/// The steps in between (proposals, assignment, sampling) belong to the training pipeline, so this module exposes
/// the stages rather than one forward.
/// </summary>
public sealed class TwoStageDetector : nn.Module
{
    private readonly nn.Module<Tensor, Tensor[]> features;
    private readonly RpnHead rpn;
    private readonly Conv2d? roiThinning;
    private readonly TwoFcBoxHead boxHead;

    public TwoStageDetector(DetectorOptions options) : base(nameof(TwoStageDetector))
    {
        TorchPlatform.Configure();
        Options = options;
        (features, int[] strides, Anchors) = DetectorFeatures.Build(options, twoStage: true);
        rpn = new RpnHead(options.FeatureChannels, Anchors.AnchorsPerLocation);
        // A ResNet-FPN pools from P2–P5 (P6 feeds the RPN only) with mmdetection's finest_scale 56
        // (SingleRoIExtractor.map_roi_levels: floor(log2(sqrt(w·h) / 56 + 1e-6)), clamped to the levels).
        RoIExtractor = options.Backbone == BackboneKind.Small
            ? new MultiLevelRoIExtractor(strides, options.RoiSize, options.RoiSamplingRatio)
            : new MultiLevelRoIExtractor(strides[..4], options.RoiSize, options.RoiSamplingRatio, finestScale: 56);
        roiLevels = options.Backbone == BackboneKind.Small ? strides.Length : 4;
        // The thinning 1×1 conv only exists when it thins (the small detector's 64 → 16).
        roiThinning = options.RoiChannels == options.FeatureChannels ? null : nn.Conv2d(options.FeatureChannels, options.RoiChannels, 1);
        boxHead = new TwoFcBoxHead(options.RoiChannels, options.RoiSize, options.NumClasses, options.BoxHeadHiddenDim);
        RegisterComponents();
    }

    private readonly int roiLevels;

    public DetectorOptions Options { get; }
    public AnchorGenerator Anchors { get; }
    public MultiLevelRoIExtractor RoIExtractor { get; }

    /// <summary><c>[B, 3, H, W]</c> → feature levels, finest first.</summary>
    public Tensor[] Features(Tensor images) => features.forward(images);

    /// <summary>Objectness logits <c>[B, N]</c> and deltas <c>[B, N, 4]</c>, N = anchors of <see cref="Anchors"/>.</summary>
    public (Tensor Objectness, Tensor Deltas) Rpn(Tensor[] levels) => rpn.forward(levels);

    /// <summary>RoIs <c>[B, R, 4]</c> (input pixels) → class logits <c>[B, R, C+1]</c> and class-specific deltas <c>[B, R, 4C]</c>.</summary>
    public (Tensor ClassLogits, Tensor Deltas) BoxHead(Tensor[] levels, Tensor rois)
    {
        using var scope = NewDisposeScope();
        var (logits, deltas) = BoxHeadOn(RoIExtractor.Apply(ThinLevels(levels), rois.detach()));
        return (logits.MoveToOuterDisposeScope(), deltas.MoveToOuterDisposeScope());
    }

    /// <summary>The levels RoIs pool from (the first <c>roiLevels</c>), thinned to <see cref="DetectorOptions.RoiChannels"/> where a thinning conv exists: <c>[B, RoiChannels, H_l, W_l]</c>.</summary>
    public Tensor[] ThinLevels(Tensor[] levels) => levels.Take(roiLevels).Select(level => roiThinning?.forward(level) ?? level).ToArray();

    /// <summary>RoI features <c>[B, R, RoiChannels, P, P]</c> → class logits <c>[B, R, C+1]</c> and deltas <c>[B, R, 4C]</c>.</summary>
    public (Tensor ClassLogits, Tensor Deltas) BoxHeadOn(Tensor roiFeatures) => boxHead.forward(roiFeatures);
}

/// <summary>RetinaNet-style detector: features → dense sigmoid class logits and deltas for every anchor.</summary>
public sealed class SingleStageDetector : nn.Module<Tensor, (Tensor ClassLogits, Tensor Deltas)>
{
    private readonly nn.Module<Tensor, Tensor[]> features;
    private readonly RetinaHead head;

    public SingleStageDetector(DetectorOptions options) : base(nameof(SingleStageDetector))
    {
        TorchPlatform.Configure();
        Options = options;
        (features, _, Anchors) = DetectorFeatures.Build(options, twoStage: false);
        head = new RetinaHead(options.FeatureChannels, options.NumClasses, Anchors.AnchorsPerLocation, options.RetinaStackedConvs,
            towerGroups: options.Backbone == BackboneKind.Small ? options.RetinaTowerGroups : 0,
            heTowers: options.Backbone == BackboneKind.Small && options.RetinaHeTowers);
        RegisterComponents();
    }

    public DetectorOptions Options { get; }
    public AnchorGenerator Anchors { get; }

    /// <summary><c>[B, 3, H, W]</c> → class logits <c>[B, N, C]</c> and deltas <c>[B, N, 4]</c>, N = anchors of <see cref="Anchors"/>.</summary>
    public override (Tensor ClassLogits, Tensor Deltas) forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var (logits, deltas) = Head(Features(images));
        return (logits.MoveToOuterDisposeScope(), deltas.MoveToOuterDisposeScope());
    }

    /// <summary><c>[B, 3, H, W]</c> → feature levels, finest first.</summary>
    public Tensor[] Features(Tensor images) => features.forward(images);

    /// <summary>Feature levels → class logits <c>[B, N, C]</c> and deltas <c>[B, N, 4]</c>.</summary>
    public (Tensor ClassLogits, Tensor Deltas) Head(Tensor[] levels) => head.forward(levels);
}
