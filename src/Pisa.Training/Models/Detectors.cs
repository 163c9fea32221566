using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>Sizes of the runner's small detectors (defaults fit 128 px inputs and the CPU budget).</summary>
/// <param name="RoiChannels">The two-stage box head pools from features thinned to this many channels by a 1×1 conv
/// (as Light-Head R-CNN does): RoIAlign and the first FC layer cost scale with it, and they dominate with hundreds of RoIs.
/// At 16, a batch of 8 with 512 RoIs per image takes about 0.3 s of CPU for forward + backward (0.4 s at 32).</param>
/// <param name="TwoStageFinestStride">The two-stage detector's pyramid is P2–P3 (4) or P3–P4 (8): at stride 4 the RPN has
/// anchors close enough to every small object and small RoIs pool from a finer map.</param>
/// <param name="SingleStageFinestStride">The same for the single-stage detector, whose dense head costs 4× more per level at stride 4.</param>
public sealed record DetectorOptions(
    int NumClasses, bool UseFpn = true, int BackboneWidth = 24, int FeatureChannels = 64,
    int RoiSize = 7, int RoiSamplingRatio = 2, int RoiChannels = 16, int BoxHeadHiddenDim = 256, int RetinaStackedConvs = 2,
    int TwoStageFinestStride = 4, int SingleStageFinestStride = 8);

/// <summary>
/// Faster R-CNN parts: features → RPN (objectness, deltas per anchor) → thinned features → RoI features → box head.
/// The steps in between (proposals, assignment, sampling) belong to the training pipeline, so this module exposes
/// the stages rather than one forward.
/// </summary>
public sealed class TwoStageDetector : nn.Module
{
    private readonly FeatureExtractor features;
    private readonly RpnHead rpn;
    private readonly Conv2d roiThinning;
    private readonly TwoFcBoxHead boxHead;

    public TwoStageDetector(DetectorOptions options) : base(nameof(TwoStageDetector))
    {
        Options = options;
        features = new FeatureExtractor(options.UseFpn, options.BackboneWidth, options.FeatureChannels, options.TwoStageFinestStride);
        Anchors = AnchorGenerator.ForSmallImages(features.Strides);
        rpn = new RpnHead(options.FeatureChannels, Anchors.AnchorsPerLocation);
        RoIExtractor = new MultiLevelRoIExtractor(features.Strides, options.RoiSize, options.RoiSamplingRatio);
        roiThinning = nn.Conv2d(options.FeatureChannels, options.RoiChannels, 1);
        boxHead = new TwoFcBoxHead(options.RoiChannels, options.RoiSize, options.NumClasses, options.BoxHeadHiddenDim);
        RegisterComponents();
    }

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

    /// <summary>The levels thinned to <see cref="DetectorOptions.RoiChannels"/>, what RoIs pool from: <c>[B, RoiChannels, H_l, W_l]</c>.</summary>
    public Tensor[] ThinLevels(Tensor[] levels) => levels.Select(level => roiThinning.forward(level)).ToArray();

    /// <summary>RoI features <c>[B, R, RoiChannels, P, P]</c> → class logits <c>[B, R, C+1]</c> and deltas <c>[B, R, 4C]</c>.</summary>
    public (Tensor ClassLogits, Tensor Deltas) BoxHeadOn(Tensor roiFeatures) => boxHead.forward(roiFeatures);
}

/// <summary>RetinaNet-style detector: features → dense sigmoid class logits and deltas for every anchor.</summary>
public sealed class SingleStageDetector : nn.Module<Tensor, (Tensor ClassLogits, Tensor Deltas)>
{
    private readonly FeatureExtractor features;
    private readonly RetinaHead head;

    public SingleStageDetector(DetectorOptions options) : base(nameof(SingleStageDetector))
    {
        Options = options;
        features = new FeatureExtractor(options.UseFpn, options.BackboneWidth, options.FeatureChannels, options.SingleStageFinestStride);
        Anchors = AnchorGenerator.ForSmallImages(features.Strides);
        head = new RetinaHead(options.FeatureChannels, options.NumClasses, Anchors.AnchorsPerLocation, options.RetinaStackedConvs);
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
