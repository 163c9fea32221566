using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Pipeline;

/// <summary>The assigned candidates of a two-stage batch (gts prepended to the proposals when asked).</summary>
/// <param name="Boxes">[B, M, 4].</param>
/// <param name="Mask">[B, M] bool.</param>
/// <param name="Assigned">the max-IoU assignment of every slot.</param>
public sealed record Candidates(Tensor Boxes, Tensor Mask, AssignResult Assigned);

/// <summary>
/// The steps a pipeline composes, shared by generated pipelines and the runner: each a few batched kernel calls,
/// no loop over images, gts or classes, no host synchronisation.
/// </summary>
public static class PipelineSteps
{
    /// <summary>Prepends the gts (optionally) and assigns every candidate.</summary>
    public static Candidates AssignCandidates(TwoStageSampleInput input, Assign.Thresholds thresholds, bool addGtAsProposals)
    {
        using var scope = NewDisposeScope();
        var (boxes, mask) = addGtAsProposals
            ? Sample.WithGtsPrepended(input.Proposals, input.ProposalMask, input.GtBoxes, input.GtMask)
            : (input.Proposals.alias(), input.ProposalMask.alias());
        var assigned = Assign.MaxIou(input.GtBoxes, boxes, input.GtLabels, input.GtMask, mask, thresholds);
        return new Candidates(boxes.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope(),
            new AssignResult(assigned.GtInds.MoveToOuterDisposeScope(), assigned.MaxOverlaps.MoveToOuterDisposeScope(), assigned.Labels.MoveToOuterDisposeScope()));
    }

    /// <summary>Runs the box head probe on every candidate slot.</summary>
    /// <returns>cls_score [B, M, C+1] and bbox_pred [B, M, 4C].</returns>
    public static (Tensor ClsScore, Tensor BboxPred) ProbeAll(IDetectorHeadProbe head, Candidates candidates)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long b = candidates.Boxes.shape[0], m = candidates.Boxes.shape[1];
        var (cls, pred) = head.Probe(ToRois(candidates.Boxes));
        return (cls.view(b, m, -1).MoveToOuterDisposeScope(), pred.view(b, m, -1).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Packs the chosen positives and negatives of each image into <paramref name="samplesPerImage"/> slots and builds
    /// their targets. Quirk Q4: under <see cref="Compat.Mmdet"/> negative weights are applied only if image 0 produced some.
    /// </summary>
    /// <param name="positives">[B, M] bool.</param>
    /// <param name="negatives">[B, M] bool.</param>
    /// <param name="negativeOrder">[B, M] int64 order of the negatives (null: ascending index).</param>
    /// <param name="negativeWeights">[B, M] ISR-N weights (null: 1).</param>
    /// <param name="negativeWeightsMade">[B] bool: which images' sampler produced weights.</param>
    public static TwoStageSample PackSamples(TwoStageSampleInput input, Candidates candidates, Tensor positives, Tensor negatives, int samplesPerImage,
        BoxCoder coder, Compat compat, Tensor? negativeOrder = null, Tensor? negativeWeights = null, Tensor? negativeWeightsMade = null)
    {
        using var scope = NewDisposeScope();
        long b = candidates.Boxes.shape[0], m = candidates.Boxes.shape[1], s = samplesPerImage;
        var index = arange(m, int64, positives.device).expand(b, m);
        // Slot order: positives by index, then negatives by their order, then the rest; one sort per batch.
        var negativeKey = negativeOrder ?? index;
        var key = where(positives, index, where(negatives, negativeKey + m, index + 2 * m));
        // The keys are distinct, so the S smallest in ascending order (a partial sort) are the first S slots of a full sort.
        var order = key.topk((int)Math.Min(s, m), dim: -1, largest: false, sorted: true).indexes;
        if (m < s) order = cat([order, zeros(b, s - m, int64, order.device)], 1);
        var slotInRange = arange(s, int64, order.device) < m;

        var isPositive = positives.gather(1, order) & slotInRange;
        var isNegative = negatives.gather(1, order) & slotInRange;
        var valid = isPositive | isNegative;
        var gtInds = candidates.Assigned.GtInds.gather(1, order);

        var boxes = candidates.Boxes.gather(1, order.unsqueeze(-1).expand(-1, -1, 4));
        var placeholder = tensor(new float[] { 0, 0, 1, 1 }, boxes.dtype, boxes.device);
        boxes = where(valid.unsqueeze(-1), boxes, placeholder);
        var labels = where(isPositive, candidates.Assigned.Labels.gather(1, order), (long)input.NumClasses);

        var labelWeights = valid.to(boxes.dtype);
        if (negativeWeights is not null)
        {
            var made = negativeWeightsMade ?? ones(b, ScalarType.Bool, positives.device);
            var apply = compat == Compat.Mmdet ? made[0].expand(b) : made;
            labelWeights = where(isNegative & apply.unsqueeze(-1), negativeWeights.gather(1, order).to(boxes.dtype), labelWeights);
        }

        var matchedGt = input.GtBoxes.to(boxes.dtype).gather(1, (gtInds - 1).clamp_min(0).unsqueeze(-1).expand(-1, -1, 4));
        var targets = where(isPositive.unsqueeze(-1), coder.Encode(boxes, matchedGt), 0f);
        var bboxWeights = isPositive.unsqueeze(-1).expand(-1, -1, 4).to(boxes.dtype);
        var gtIds = Reweight.BatchGtIds(where(isPositive, gtInds, 0L), input.GtMask.sum(1, type: ScalarType.Int64), compat);

        return new TwoStageSample(
            ToRois(boxes).MoveToOuterDisposeScope(), valid.flatten().MoveToOuterDisposeScope(), labels.flatten().MoveToOuterDisposeScope(),
            labelWeights.flatten().MoveToOuterDisposeScope(), targets.view(-1, 4).MoveToOuterDisposeScope(), bboxWeights.reshape(-1, 4).MoveToOuterDisposeScope(),
            gtIds.flatten().MoveToOuterDisposeScope(), order.flatten().MoveToOuterDisposeScope(), input.NumClasses);
    }

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
        var assigned = Assign.MaxIou(input.GtBoxes, input.Anchors, input.GtLabels, input.GtMask, input.AnchorMask, thresholds);
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

    /// <summary>Boxes of a padded batch as RoIs with their image index.</summary>
    /// <param name="boxes">[B, S, 4].</param>
    /// <returns>[B*S, 5].</returns>
    public static Tensor ToRois(Tensor boxes)
    {
        using var scope = NewDisposeScope();
        long b = boxes.shape[0], s = boxes.shape[1];
        var image = arange(b, boxes.dtype, boxes.device).view(b, 1, 1).expand(b, s, 1);
        return cat([image, boxes], -1).view(b * s, 5).MoveToOuterDisposeScope();
    }
}
