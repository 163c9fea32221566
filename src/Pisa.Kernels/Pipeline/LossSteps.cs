using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Pipeline;

/// <summary>
/// The loss steps a pipeline composes: the two-stage and single-stage losses with optional ISR-P and CARL, each a few batched
/// kernel calls, no host synchronisation.
/// </summary>
public static class LossSteps
{
    /// <summary>
    /// The two-stage losses: optional ISR-P on the label weights, cross entropy divided by the count of positive label
    /// weights, the box loss on positives divided by the number of samples, and optional CARL added on top.
    /// </summary>
    /// <param name="clsScore">[B*S, C+1].</param>
    /// <param name="bboxPred">[B*S, 4C] or [B*S, 4].</param>
    public static Dictionary<string, Tensor> TwoStageLoss(TwoStageSample sample, Tensor clsScore, Tensor bboxPred, BoxLoss boxLoss,
        ReweightSettings? isrP, ReweightSettings? carl, BoxCoder coder, Compat compat)
    {
        using var scope = NewDisposeScope();
        var rois = sample.Rois[TensorIndex.Colon, TensorIndex.Slice(1)];
        // One cross entropy serves the loss and ISR-P's normaliser.
        var crossEntropy = Loss.CrossEntropy(clsScore, sample.Labels);
        var labelWeights = isrP is null ? sample.LabelWeights
            : Reweight.IsrP(clsScore, bboxPred, rois, sample.Labels, sample.LabelWeights, sample.BboxTargets, sample.PosGtIds,
                sample.NumClasses, isrP, coder, compat, classificationLoss: crossEntropy);
        var sampleCount = sample.SampleCount().clamp_min(1);
        var losses = new Dictionary<string, Tensor>
        {
            ["loss_cls"] = ClassificationLoss(crossEntropy, labelWeights),
            ["loss_bbox"] = BoxLossOnPositives(bboxPred, sample.Labels, sample.BboxTargets, sample.BboxWeights, boxLoss, sampleCount),
        };
        if (carl is not null)
            losses["loss_carl"] = Reweight.Carl(clsScore, sample.Labels, bboxPred, sample.BboxTargets, sample.NumClasses, carl, false, boxLoss, sampleCount);
        foreach (var loss in losses.Values) loss.MoveToOuterDisposeScope();
        return losses;
    }

    /// <summary>
    /// The single-stage (RetinaNet-style) losses: every anchor assigned, sigmoid focal loss over real, non-ignored anchors
    /// divided by the number of positives, optional ISR-P (sigmoid), the box loss on positives, optional CARL (sigmoid scores).
    /// </summary>
    /// <param name="clsScore">[B, A, C] sigmoid logits.</param>
    /// <param name="bboxPred">[B, A, 4] deltas.</param>
    public static Dictionary<string, Tensor> SingleStageLoss(SingleStageInput input, Tensor clsScore, Tensor bboxPred, Assign.Thresholds thresholds,
        FocalSettings focalLoss, BoxLoss boxLoss, ReweightSettings? isrP, ReweightSettings? carl, BoxCoder coder, Compat compat)
    {
        using var scope = NewDisposeScope();
        long classes = input.NumClasses;
        var assigned = Assign.MaxIoU(input.GtBoxes, input.Anchors, input.GtLabels, input.GtMask, input.AnchorMask, thresholds);
        var positive = assigned.GtInds > 0;
        var counted = assigned.GtInds >= 0; // positives and negatives; ignored anchors and padding weigh 0
        var labels = where(positive, assigned.Labels, full_like(assigned.Labels, classes)).flatten();
        var matchedGt = input.GtBoxes.to(input.Anchors.dtype).gather(1, (assigned.GtInds - 1).clamp_min(0).unsqueeze(-1).expand(-1, -1, 4));
        var targets = where(positive.unsqueeze(-1), coder.Encode(input.Anchors, matchedGt), zeros_like(input.Anchors)).view(-1, 4);
        var gtIds = Reweight.BatchGtIds(where(positive, assigned.GtInds, zeros_like(assigned.GtInds)), input.GtMask.sum(1, type: ScalarType.Int64), compat).flatten();
        var cls = clsScore.reshape(-1, classes);
        var pred = bboxPred.reshape(-1, 4);
        var labelWeights = counted.flatten().to(cls.dtype);
        // One focal loss over [B*A, C] serves the loss and ISR-P's normaliser (the reference's ISR-P calls the head's own loss_cls).
        var focal = Loss.SigmoidFocal(cls, labels, focalLoss.Gamma, focalLoss.Alpha).sum(-1);
        if (isrP is not null)
            labelWeights = Reweight.IsrP(cls, pred, input.Anchors.reshape(-1, 4), labels, labelWeights, targets, gtIds, classes, isrP, coder, compat,
                sigmoid: true, classificationLoss: focal);
        var positives = positive.sum(type: cls.dtype).clamp_min(1);
        var losses = new Dictionary<string, Tensor>
        {
            ["loss_cls"] = (focal * labelWeights).sum() / positives,
            ["loss_bbox"] = BoxLossOnPositives(pred, labels, targets, positive.flatten().unsqueeze(-1).expand(-1, 4).to(cls.dtype), boxLoss, positives),
        };
        if (carl is not null)
            losses["loss_carl"] = Reweight.Carl(cls, labels, pred, targets, classes, carl, true, boxLoss, positives);
        foreach (var loss in losses.Values) loss.MoveToOuterDisposeScope();
        return losses;
    }

    /// <summary>Weighted classification loss divided by the <em>count</em> of label weights &gt; 0 (so ISR changes relative weights only).</summary>
    /// <param name="loss">[N] unreduced.</param>
    /// <param name="labelWeights">[N].</param>
    /// <returns>[].</returns>
    public static Tensor ClassificationLoss(Tensor loss, Tensor labelWeights)
    {
        using var scope = NewDisposeScope();
        var count = (labelWeights > 0).sum(type: loss.dtype).clamp_min(1);
        return ((loss * labelWeights).sum() / count).MoveToOuterDisposeScope();
    }

    /// <summary>The box loss of the positives (their own class's deltas) divided by <paramref name="divisor"/>; a graph-connected zero without positives.</summary>
    /// <returns>[].</returns>
    public static Tensor BoxLossOnPositives(Tensor bboxPred, Tensor labels, Tensor targets, Tensor bboxWeights, BoxLoss boxLoss, Tensor divisor)
    {
        using var scope = NewDisposeScope();
        var loss = boxLoss.Compute(Boxes.DeltasOfClass(bboxPred, labels), targets) * bboxWeights;
        return (loss.sum() / divisor).MoveToOuterDisposeScope();
    }
}
