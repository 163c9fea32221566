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
        long b = candidates.Boxes.shape[0], m = candidates.Boxes.shape[1], g = input.GtBoxes.shape[1], s = samplesPerImage;
        var device = positives.device;
        var index = Constants.Range(m, device);
        // Slot order: positives by index (keys below M), then negatives by their order (M to 2M), then the rest (2M and
        // up); the keys are distinct, so the S smallest in ascending order (a partial sort) are the first S slots of a full sort.
        var rest = Constants.Of($"pack-rest:{m}", int64, device, () => arange(2 * m, 3 * m, int64, device));
        var key = where(positives, index, where(negatives, (negativeOrder ?? index) + m, rest));
        var (slotKey, order) = key.topk((int)Math.Min(s, m), dim: -1, largest: false, sorted: true);
        if (m < s) (slotKey, order) = (cat([slotKey, full(b, s - m, 3 * m, int64, device)], 1), cat([order, zeros(b, s - m, int64, device)], 1));

        // Every per-slot tensor is flat, [B*S]: the candidate fields are taken by one flat index each.
        var slot = slotKey.view(-1);
        var isPositive = slot < m;
        var valid = slot < 2 * m;
        var isNegative = valid ^ isPositive;
        var flatIndex = (order + Constants.Of($"pack-rows:{b}x{m}", int64, device, () => arange(b, int64, device).mul_(m).unsqueeze(-1))).view(-1);
        var gtInds = candidates.Assigned.GtInds.take(flatIndex);

        var boxes = candidates.Boxes.reshape(-1, 4).index_select(0, flatIndex);
        var placeholder = Constants.Vector([0, 0, 1, 1], boxes.dtype, device);
        boxes = where(valid.unsqueeze(-1), boxes, placeholder);
        var labels = where(isPositive, candidates.Assigned.Labels.take(flatIndex), (long)input.NumClasses);

        var labelWeights = valid.to(boxes.dtype);
        if (negativeWeights is not null)
        {
            var made = negativeWeightsMade ?? ones(b, ScalarType.Bool, device);
            // Q4: under Mmdet image 0 decides for every image.
            var apply = compat == Compat.Mmdet ? made[..1] : made.index_select(0, SlotImage(b, s, int64, device));
            var weights = negativeWeights.take(flatIndex);
            labelWeights = where(isNegative & apply, weights.dtype == boxes.dtype ? weights : weights.to(boxes.dtype), labelWeights);
        }

        var gtBoxes = input.GtBoxes.dtype == boxes.dtype ? input.GtBoxes : input.GtBoxes.to(boxes.dtype);
        var gtRow = (gtInds - 1).clamp_min_(0).add_(Constants.Of($"slot-gt-rows:{b}x{s}x{g}", int64, device, () => arange(b, int64, device).repeat_interleave(s).mul_(g)));
        var matchedGt = gtBoxes.reshape(-1, 4).index_select(0, gtRow);
        var positiveColumn = isPositive.unsqueeze(-1);
        var targets = where(positiveColumn, coder.Encode(boxes, matchedGt), 0f);
        var bboxWeights = positiveColumn.expand(-1, 4).to(boxes.dtype);
        var gtIds = Reweight.BatchGtIds(where(isPositive, gtInds, 0L).view(b, s), input.GtMask.sum(1, type: ScalarType.Int64), compat).view(-1);
        var rois = cat([Constants.Of($"roi-image:{b}x{s}", boxes.dtype, device, () => SlotImage(b, s, boxes.dtype, device).unsqueeze(-1)), boxes], -1);

        return new TwoStageSample(rois.MoveToOuterDisposeScope(), valid.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(),
            labelWeights.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope(), bboxWeights.MoveToOuterDisposeScope(),
            gtIds.MoveToOuterDisposeScope(), order.view(-1).MoveToOuterDisposeScope(), input.NumClasses);
    }

    /// <summary>The image of each of B*S slots, <c>[0 x S, 1 x S, ...]</c> (a cached constant).</summary>
    private static Tensor SlotImage(long b, long s, ScalarType dtype, Device device) =>
        Constants.Of($"slot-image:{b}x{s}", dtype, device, () => arange(b, dtype, device).repeat_interleave(s));

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
