using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Pipeline;

/// <summary>The assigned candidates of a two-stage batch (gts prepended to the proposals when asked).</summary>
/// <param name="Boxes">[B, M, 4].</param>
/// <param name="Mask">[B, M] bool.</param>
/// <param name="Assigned">the max-IoU assignment of every slot.</param>
public sealed record Candidates(Tensor Boxes, Tensor Mask, AssignResult Assigned);

/// <summary>
/// The target steps a pipeline composes, shared by generated pipelines and the runner: assign the candidates, probe the box
/// head, pack the sampled RoIs with their targets. Each is a few batched kernel calls, no loop over images, gts or classes,
/// no host synchronisation.
/// </summary>
public static class TargetSteps
{
    /// <summary>Prepends the gts (optionally) and assigns every candidate.</summary>
    public static Candidates AssignCandidates(TwoStageSampleInput input, Assign.Thresholds thresholds, bool addGtAsProposals)
    {
        using var scope = NewDisposeScope();
        var (boxes, mask) = addGtAsProposals
            ? Sample.WithGtsPrepended(input.Proposals, input.ProposalMask, input.GtBoxes, input.GtMask)
            : (input.Proposals.alias(), input.ProposalMask.alias());
        var assigned = Assign.MaxIoU(input.GtBoxes, boxes, input.GtLabels, input.GtMask, mask, thresholds);
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
