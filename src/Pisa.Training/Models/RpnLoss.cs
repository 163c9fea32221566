using Pisa.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// The RPN's training losses as mmdetection's Faster R-CNN sets them: anchors assigned at 0.7 / 0.3 with low-quality
/// matches (min 0.3), 256 anchors per image drawn at random with at most half positive, objectness binary cross entropy
/// and L1 on the positives' deltas (<see cref="BoxCoder.Unit"/>), both divided by the number of sampled anchors.
/// </summary>
public static class RpnLoss
{
    public const int SamplesPerImage = 256;
    public const double PositiveFraction = 0.5;

    /// <param name="anchors"><c>[N, 4]</c>.</param>
    /// <param name="objectness">Logits <c>[B, N]</c>.</param>
    /// <param name="deltas"><c>[B, N, 4]</c>.</param>
    /// <param name="gtBoxes"><c>[B, G, 4]</c>; <paramref name="gtLabels"/> <c>[B, G]</c>, <paramref name="gtMask"/> <c>[B, G]</c>.</param>
    /// <param name="validAnchors">bool <c>[B, N]</c>: anchors that may be sampled (the others, in a padded batch's
    /// padding, are neither positive nor negative); null = all.</param>
    /// <returns><c>loss_rpn_cls</c> and <c>loss_rpn_bbox</c>, scalars.</returns>
    public static Dictionary<string, Tensor> Compute(Tensor anchors, Tensor objectness, Tensor deltas, Tensor gtBoxes, Tensor gtLabels, Tensor gtMask, Generator generator,
        Tensor? validAnchors = null)
    {
        using var scope = NewDisposeScope();
        long b = objectness.shape[0], n = objectness.shape[1];
        var batchAnchors = anchors.unsqueeze(0).expand(b, n, 4);
        var assigned = Assign.MaxIoU(gtBoxes, batchAnchors, gtLabels, gtMask, validAnchors ?? ones(b, n, ScalarType.Bool, objectness.device), Assign.Thresholds.RpnDefault);
        var positives = Sample.RandomPositives(assigned.GtInds, Sample.PositiveBudget(SamplesPerImage, PositiveFraction), generator);
        var negatives = Sample.RandomNegatives(assigned.GtInds, Sample.NegativeBudget(SamplesPerImage, positives.sum(1)), generator);
        var sampled = (positives | negatives).to(objectness.dtype);
        var count = sampled.sum().clamp_min(1);

        var bce = nn.functional.binary_cross_entropy_with_logits(objectness, positives.to(objectness.dtype), reduction: nn.Reduction.None);
        var matchedGt = gtBoxes.gather(1, (assigned.GtInds - 1).clamp_min(0).unsqueeze(-1).expand(b, n, 4));
        // Padded gt slots are zero boxes whose encoding is -inf: only positives' targets are kept, the rest are 0.
        var isPositive = positives.unsqueeze(-1);
        var targets = where(isPositive, BoxCoder.Unit.Encode(batchAnchors, matchedGt), zeros_like(deltas));
        var boxLoss = Loss.L1(deltas, targets) * isPositive.to(deltas.dtype);
        return new Dictionary<string, Tensor>
        {
            ["loss_rpn_cls"] = ((bce * sampled).sum() / count).MoveToOuterDisposeScope(),
            ["loss_rpn_bbox"] = (boxLoss.sum() / count).MoveToOuterDisposeScope(),
        };
    }
}
