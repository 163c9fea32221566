using Pisa.Kernels.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Reference;

/// <summary>
/// The hand-written pattern the recipe generator follows: PISA Faster R-CNN (compat mmdet). Assignment 0.5/0.5/0.5 with gts
/// added as proposals; 512 samples per image at 0.25 positive; random positives; Score-HLR negatives with ISR-N
/// (k 0.5, bias 0, score_thr 0.05, iou_thr 0.5); ISR-P (k 2, bias 0); smooth L1 (beta 1); CARL (k 1, bias 0.2).
/// Every hyper-parameter is a constant and each stage is one call; a generated pipeline differs only in which calls
/// and constants it writes.
/// </summary>
public sealed class ExamplePisaTwoStagePipeline : ISamplePipeline
{
    private const Compat Mode = Compat.Mmdet;
    private const int SamplesPerImage = 512;
    private static readonly BoxCoder Coder = BoxCoder.Rcnn;

    /// <inheritdoc />
    public TwoStageSample Sample(TwoStageSampleInput input, IDetectorHeadProbe head, Generator generator)
    {
        using var scope = NewDisposeScope();
        // Assign: max IoU 0.5 / 0.5 / 0.5, no low-quality matching, gts prepended to the proposals.
        var candidates = TargetSteps.AssignCandidates(input, new Assign.Thresholds(0.5, 0.5, 0.5, false), addGtAsProposals: true);
        // Positives: uniform random, at most int(512 * 0.25) = 128 per image.
        var positives = Kernels.Sample.RandomPositives(candidates.Assigned.GtInds, 128, generator);
        // Negatives: Score-HLR, the box head probed on every candidate without gradient.
        var negativeBudget = Kernels.Sample.NegativeBudget(SamplesPerImage, RankOps.Count(positives));
        var (clsScore, bboxPred) = TargetSteps.ProbeAll(head, candidates);
        var negatives = Kernels.Sample.ScoreHlrNegatives(candidates.Assigned.GtInds == 0, clsScore, bboxPred, candidates.Boxes, negativeBudget,
            new ScoreHlrSettings(ScoreThr: 0.05, IoUThr: 0.5), Coder, Mode, generator);
        // ISR-N (k 0.5, bias 0) on the chosen negatives.
        var negativeWeights = Reweight.IsrN(negatives, new ReweightSettings(0.5, 0));
        // Targets: pack 512 slots per image, positives first, negatives in HLR order with their ISR-N weights.
        var sample = TargetSteps.PackSamples(input, candidates, positives, negatives.Selected, SamplesPerImage, Coder, Mode,
            negatives.Order, negativeWeights, negatives.HasNegatives);
        return KeepForCaller(sample);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Tensor> Loss(TwoStageSample sample, Tensor clsScore, Tensor bboxPred) =>
        // ISR-P (k 2, bias 0) on the positives' label weights, cross entropy, smooth L1 (beta 1), CARL (k 1, bias 0.2) on top.
        LossSteps.TwoStageLoss(sample, clsScore, bboxPred, new BoxLoss(BoxLossKind.SmoothL1, Beta: 1.0), new ReweightSettings(2, 0),
            new ReweightSettings(1, 0.2), Coder, Mode);

    /// <summary>Moves the sample's tensors out of this method's dispose scope, to the caller's.</summary>
    private static TwoStageSample KeepForCaller(TwoStageSample s) => new(
        s.Rois.MoveToOuterDisposeScope(), s.Valid.MoveToOuterDisposeScope(), s.Labels.MoveToOuterDisposeScope(), s.LabelWeights.MoveToOuterDisposeScope(),
        s.BboxTargets.MoveToOuterDisposeScope(), s.BboxWeights.MoveToOuterDisposeScope(), s.PosGtIds.MoveToOuterDisposeScope(),
        s.CandidateIndex.MoveToOuterDisposeScope(), s.NumClasses);
}
