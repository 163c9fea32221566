using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Pipeline;

/// <summary>
/// Runs the detector's box head without gradient on candidate RoIs, for the samplers that need scores (Score-HLR, OHEM).
/// The runner implements it over its RoI feature extractor and box head.
/// </summary>
public interface IDetectorHeadProbe
{
    /// <summary>Scores candidate RoIs.</summary>
    /// <param name="rois">[K, 5]: image index, x1, y1, x2, y2.</param>
    /// <returns>cls_score [K, C+1] (background last) and bbox_pred [K, 4C].</returns>
    (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois);
}

/// <summary>
/// One two-stage training batch, padded: every image has N proposal slots and G gt slots, masks say which are real.
/// </summary>
/// <param name="Proposals">[B, N, 4] RPN proposals.</param>
/// <param name="ProposalMask">[B, N] bool.</param>
/// <param name="GtBoxes">[B, G, 4].</param>
/// <param name="GtLabels">[B, G] int64 in 0..C-1.</param>
/// <param name="GtMask">[B, G] bool.</param>
/// <param name="ImageSizes">[B, 2] int64 or float (h, w).</param>
/// <param name="NumClasses">C, the number of foreground classes.</param>
public sealed record TwoStageSampleInput(Tensor Proposals, Tensor ProposalMask, Tensor GtBoxes, Tensor GtLabels, Tensor GtMask, Tensor ImageSizes, int NumClasses);

/// <summary>
/// The sampled RoIs of a batch and their targets, in fixed-size slots: image b owns rows <c>b*S .. b*S+S-1</c>
/// (S = samples per image), positives first (ascending candidate index), then negatives (ascending, or the sampler's own
/// order for Score-HLR), then padding rows (<see cref="Valid"/> false, label weight 0, roi <c>[b, 0, 0, 1, 1]</c>).
/// Fixed slots keep the step free of host synchronisation; the box head may simply run on padding rows too.
/// </summary>
/// <param name="Rois">[B*S, 5] image index, x1, y1, x2, y2.</param>
/// <param name="Valid">[B*S] bool: a real sample.</param>
/// <param name="Labels">[B*S] int64: gt class for positives, C for negatives and padding.</param>
/// <param name="LabelWeights">[B*S]: 1 for samples (ISR-N weights for Score-HLR negatives), 0 for padding.</param>
/// <param name="BboxTargets">[B*S, 4] encoded deltas for positives, 0 elsewhere.</param>
/// <param name="BboxWeights">[B*S, 4]: 1 for positives, 0 elsewhere.</param>
/// <param name="PosGtIds">[B*S] int64 batch-unique gt id of positives (quirk Q3 decides how), -1 elsewhere.</param>
/// <param name="CandidateIndex">[B*S] int64: which candidate slot of its image each sample is (lets a caller reuse per-candidate outputs).</param>
/// <param name="NumClasses">C.</param>
public sealed record TwoStageSample(Tensor Rois, Tensor Valid, Tensor Labels, Tensor LabelWeights, Tensor BboxTargets, Tensor BboxWeights,
    Tensor PosGtIds, Tensor CandidateIndex, int NumClasses)
{
    /// <summary>[] the number of real samples (the two-stage box loss and CARL divide by it).</summary>
    public Tensor SampleCount() => Valid.sum(type: ScalarType.Float32);
}

/// <summary>
/// A generated two-stage sample pipeline: phase 1 samples (no gradient), the runner runs the box head on the sampled RoIs
/// with gradient, phase 2 turns the head's outputs into named loss tensors (<c>loss_cls</c>, <c>loss_bbox</c>, and
/// <c>loss_carl</c> when the recipe has CARL). Implementations are straight-line calls into the kernels with the recipe's
/// hyper-parameters as constants; <c>Pisa.Kernels.Reference.ExamplePisaTwoStagePipeline</c> is the pattern the generator follows.
/// </summary>
public interface ISamplePipeline
{
    /// <summary>Assign, sample, build targets for a whole batch.</summary>
    /// <param name="head">the box head probe (used by Score-HLR and OHEM; others ignore it).</param>
    /// <param name="generator">the source of every random draw: a seed reproduces a run.</param>
    TwoStageSample Sample(TwoStageSampleInput input, IDetectorHeadProbe head, Generator generator);

    /// <summary>Re-weight and compute the losses from the box head's outputs on <see cref="TwoStageSample.Rois"/>.</summary>
    /// <param name="clsScore">[B*S, C+1].</param>
    /// <param name="bboxPred">[B*S, 4C] or [B*S, 4].</param>
    /// <returns>named scalar losses, summed by the runner.</returns>
    IReadOnlyDictionary<string, Tensor> Loss(TwoStageSample sample, Tensor clsScore, Tensor bboxPred);
}

/// <summary>
/// One single-stage (RetinaNet-style) batch: every anchor is assigned, none sampled.
/// </summary>
/// <param name="Anchors">[B, A, 4].</param>
/// <param name="AnchorMask">[B, A] bool: real anchors (e.g. inside the image).</param>
/// <param name="GtBoxes">[B, G, 4].</param>
/// <param name="GtLabels">[B, G] int64.</param>
/// <param name="GtMask">[B, G] bool.</param>
/// <param name="NumClasses">C.</param>
public sealed record SingleStageInput(Tensor Anchors, Tensor AnchorMask, Tensor GtBoxes, Tensor GtLabels, Tensor GtMask, int NumClasses);
