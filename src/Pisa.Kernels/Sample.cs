using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>IoU-balanced negative sampling settings (Libra R-CNN).</summary>
/// <param name="FloorThr">-1 (the shipped default: no floor set), 0 (IoU == 0 is the floor) or &gt; 0.</param>
/// <param name="FloorFraction">share of the budget kept for the floor set.</param>
/// <param name="NumBins">IoU intervals of the balanced set (1 = plain random).</param>
public sealed record IoUBalancedSettings(double FloorThr = -1, double FloorFraction = 0, int NumBins = 3);

/// <summary>Score-HLR negative sampling settings (PISA); its ISR-N weights are <see cref="Reweight.IsrN"/>'s.</summary>
/// <param name="ScoreThr">a negative is valid when its best foreground score exceeds this.</param>
/// <param name="IoUThr">valid negatives group by <c>nms_match</c> at IoU &gt;= this.</param>
public sealed record ScoreHlrSettings(double ScoreThr = 0.05, double IoUThr = 0.5);

/// <summary>What Score-HLR sampling chose in each image, and what ISR-N (<see cref="Reweight.IsrN"/>) weighs them by.</summary>
/// <param name="Selected">[B, N] bool: the chosen negatives.</param>
/// <param name="Order">[B, N] int64: the chosen ones' order (HLR picks by importance rank, then random fills); N or more elsewhere.</param>
/// <param name="ValidCount">[B] int64: valid negatives (score above the threshold) per image.</param>
/// <param name="Expected">[B] int64: negatives chosen per image, <c>min(negatives, budget)</c>.</param>
/// <param name="BackgroundLoss">[B, N] float32: every candidate's background cross entropy (from the same pass as the scores).</param>
/// <param name="HasNegatives">[B] bool: whether the image had negatives (the reference makes ISR-N weights only then; quirk Q4).</param>
public sealed record ScoreHlrSample(Tensor Selected, Tensor Order, Tensor ValidCount, Tensor Expected, Tensor BackgroundLoss, Tensor HasNegatives);

/// <summary>
/// The samplers (ALGORITHMS.md, "Sampling"), for a padded batch: candidates are <c>[B, N]</c> slots, assignment
/// results say which are positive (gt index &gt; 0), negative (0) or neither (-1, padding included). A sampler returns
/// a <c>[B, N]</c> mask; a mask is naturally "sorted ascending and de-duplicated". Random draws rank eligible items by
/// their order in a shuffle drawn from the given generator and keep the first <c>budget</c> of them.
/// </summary>
public static class Sample
{
    /// <summary>The gts placed before each image's proposals (as <c>add_gt_as_proposals</c> does).</summary>
    /// <param name="proposals">[B, N, 4].</param>
    /// <param name="proposalMask">[B, N] bool.</param>
    /// <param name="gtBoxes">[B, G, 4].</param>
    /// <param name="gtMask">[B, G] bool.</param>
    /// <returns>boxes [B, G+N, 4] and mask [B, G+N].</returns>
    public static (Tensor Boxes, Tensor Mask) WithGtsPrepended(Tensor proposals, Tensor proposalMask, Tensor gtBoxes, Tensor gtMask) =>
        (cat([gtBoxes.dtype == proposals.dtype ? gtBoxes : gtBoxes.to(proposals.dtype), proposals], 1), cat([gtMask, proposalMask], 1));

    /// <summary>The positive budget <c>int(num * pos_fraction)</c>.</summary>
    public static long PositiveBudget(int num, double posFraction) => (long)Math.Floor(num * posFraction);

    /// <summary>The negative budget: <c>num - positives sampled</c>, capped at <c>int(neg_pos_ub * max(1, positives))</c> when
    /// <paramref name="negPosUb"/> &gt;= 0.</summary>
    /// <param name="positivesSampled">[B] int64.</param>
    /// <returns>[B] int64.</returns>
    public static Tensor NegativeBudget(int num, Tensor positivesSampled, double negPosUb = -1)
    {
        using var scope = NewDisposeScope();
        var budget = num - positivesSampled;
        if (negPosUb >= 0)
            budget = minimum(budget, (positivesSampled.clamp_min(1).to(float64) * negPosUb).floor().to(int64));
        return budget.MoveToOuterDisposeScope();
    }

    /// <summary>Uniform draw of up to <paramref name="budget"/> positives.</summary>
    /// <param name="gtInds">[B, N] assignment (1-based gt, 0 negative, -1 ignored).</param>
    /// <returns>[B, N] bool.</returns>
    public static Tensor RandomPositives(Tensor gtInds, long budget, Generator? generator)
    {
        using var scope = NewDisposeScope();
        return RankOps.PickRandom(gtInds > 0, budget, generator).MoveToOuterDisposeScope();
    }

    /// <summary>Uniform draw of up to <paramref name="budget"/> negatives per image.</summary>
    /// <param name="gtInds">[B, N].</param>
    /// <param name="budget">[B] int64.</param>
    /// <returns>[B, N] bool.</returns>
    public static Tensor RandomNegatives(Tensor gtInds, Tensor budget, Generator? generator)
    {
        using var scope = NewDisposeScope();
        return RankOps.PickRandom(gtInds == 0, budget, generator).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Instance-balanced positives: all if they fit; else up to <c>int(round_half_even(budget/G'))+1</c> per gt, trimmed at
    /// random to the budget, or topped up at random. The top-up draws from all positives and de-duplicates under
    /// <see cref="Compat.Mmdet"/> (Q1: fewer than budget may come out), from the unused ones under <see cref="Compat.Corrected"/>.
    /// </summary>
    /// <param name="gtInds">[B, N].</param>
    /// <returns>[B, N] bool.</returns>
    public static Tensor InstanceBalancedPositives(Tensor gtInds, long budget, Compat compat, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var positives = gtInds > 0;
        var count = RankOps.CountColumn(positives);

        var rankInGt = RankOps.RandomWithinGroups(where(positives, gtInds, -1L), generator);
        // Items of no group rank N (never 0): the first of each gt are the rank-0 items.
        var distinctGts = RankOps.CountColumn(rankInGt == 0).clamp_min_(1);
        var perGt = ((double)budget / distinctGts.to(float64)).round_().to(int64).add_(1);
        var balanced = positives & (rankInGt < perGt);
        var balancedCount = RankOps.CountColumn(balanced);

        var trimmed = RankOps.PickRandom(balanced, budget, generator);
        // Under Corrected the top-up draws from the positives not yet chosen (balanced is a subset of them).
        var fillFrom = compat == Compat.Mmdet ? positives : positives ^ balanced;
        var topped = RankOps.PickRandom(fillFrom, budget - balancedCount, generator).logical_or_(balanced);

        var chosen = where(balancedCount > budget, trimmed, topped);
        return where(count <= budget, positives, chosen).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// IoU-balanced negatives (Libra R-CNN): all if they fit; otherwise the balanced set is split into IoU bins of width
    /// <c>(max IoU of the image - floor) / bins</c> (float32 edges, half-open), each bin giving up to
    /// <c>int(balanced_budget / bins)</c> at random, the shortfall topped up from the balanced set; the floor set fills
    /// the rest, then any negative. Quirk Q2: with <c>floor_thr = -1</c>, only a sampler's first call treats every negative
    /// as balanced; later calls (later images, later batches) behave as <c>floor_thr = 0</c> under <see cref="Compat.Mmdet"/>.
    /// </summary>
    /// <param name="gtInds">[B, N].</param>
    /// <param name="maxOverlaps">[B, N] best IoU of every candidate (positives and gts included: they set the top edge).</param>
    /// <param name="candidateMask">[B, N] bool: real candidates.</param>
    /// <param name="budget">[B] int64.</param>
    /// <param name="firstCall">whether image 0 is this sampler's first call ever (the pipeline keeps that state).</param>
    /// <returns>[B, N] bool.</returns>
    public static Tensor IoUBalancedNegatives(Tensor gtInds, Tensor maxOverlaps, Tensor candidateMask, Tensor budget,
        IoUBalancedSettings settings, bool firstCall, Compat compat, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long b = gtInds.shape[0];
        var negatives = gtInds == 0;
        var iou = maxOverlaps.dtype == float32 ? maxOverlaps : maxOverlaps.to(float32);
        var (floorSet, balancedSet) = FloorAndBalancedSets(negatives, iou, settings.FloorThr, b, firstCall, compat);

        budget = RankOps.Column(budget);
        // floor(budget * 1.0) is the budget itself (exact in float64): no floor fraction, no arithmetic.
        var balancedBudget = settings.FloorFraction == 0 ? budget : (budget.to(float64) * (1 - settings.FloorFraction)).floor().to(int64);
        var balancedCount = RankOps.CountColumn(balancedSet);
        Tensor balancedPick;
        if (settings.NumBins >= 2)
        {
            var binned = PickPerIoUBin(balancedSet, iou, candidateMask, balancedBudget, settings, generator);
            // The sets below are nested (binned in balanced, picks in negatives): "A and not B" is A xor B.
            balancedPick = RankOps.PickRandom(balancedSet ^ binned, balancedBudget - RankOps.CountColumn(binned), generator).logical_or_(binned);
        }
        else
        {
            balancedPick = RankOps.PickRandom(balancedSet, balancedBudget, generator);
        }
        balancedPick = where(balancedCount > balancedBudget, balancedPick, balancedSet);

        var picked = RankOps.PickRandom(floorSet, budget - RankOps.CountColumn(balancedPick), generator).logical_or_(balancedPick);
        picked.logical_or_(RankOps.PickRandom(negatives ^ picked, budget - RankOps.CountColumn(picked), generator));
        return where(RankOps.CountColumn(negatives) <= budget, negatives, picked).MoveToOuterDisposeScope();
    }

    /// <summary>The floor and balanced sets of each image, with quirk Q2 deciding how <c>floor_thr = -1</c> behaves.</summary>
    private static (Tensor Floor, Tensor Balanced) FloorAndBalancedSets(Tensor negatives, Tensor iou, double floorThr, long images, bool firstCall, Compat compat)
    {
        if (floorThr > 0)
            return (negatives & (iou >= 0) & (iou < floorThr), negatives & (iou >= floorThr));
        // A negative's IoU is 0 or more: the floor set is the negatives at 0, the rest of them (xor) is balanced.
        var balancedAboveZero = negatives & (iou > 0);
        var floorZero = (negatives ^ balancedAboveZero, balancedAboveZero);
        if (floorThr == 0) return floorZero;
        // floor_thr = -1: no floor set, every negative balanced; the reference then sets floor_thr = 0 for good (Q2).
        var noFloor = (zeros_like(negatives), negatives);
        if (compat == Compat.Corrected) return noFloor;
        if (!firstCall) return floorZero;
        var behavesFirst = (arange(images, int64, negatives.device) == 0).unsqueeze(-1) & firstCall;
        return (where(behavesFirst, noFloor.Item1, floorZero.Item1), where(behavesFirst, noFloor.Item2, floorZero.Item2));
    }

    /// <summary>Up to <c>int(balanced_budget / bins)</c> random members of each IoU bin of the balanced set.</summary>
    private static Tensor PickPerIoUBin(Tensor balancedSet, Tensor iou, Tensor candidateMask, Tensor balancedBudget, IoUBalancedSettings settings, Generator? generator)
    {
        int bins = settings.NumBins;
        // Intervals start at the floor threshold when it is positive, at 0 otherwise; edges are float32 like the reference's.
        float floor = settings.FloorThr > 0 ? (float)settings.FloorThr : 0f;
        var maxIou = where(candidateMask, iou, 0f).amax([1], keepdim: true);
        // x - 0 and x + 0 are x for an IoU (never -0): a zero floor costs no ops.
        var width = (floor == 0 ? maxIou : maxIou - floor) / bins;
        // All edges at once, [B, bins + 1]: edge i = width * i + floor, the same float32 products and sums as one at a time.
        var edges = width * Constants.Of("iou-bin-edges:" + bins, iou.dtype, iou.device, () => arange(bins + 1, iou.dtype, iou.device));
        if (floor != 0) edges.add_(floor);
        // A balanced negative's IoU is at least the floor, so its image's edges never decrease: the number of edges it
        // reaches, minus 1, is its bin, -1 below edge 0 and `bins` at or above the last edge (both outside every bin).
        var bin = (iou.unsqueeze(-1) >= edges.unsqueeze(1)).sum(-1, type: ScalarType.Int64).sub_(1);
        bin = where(balancedSet & (bin < bins), bin, -1L);
        var perBin = RankOps.Column(balancedBudget / bins);
        return (bin >= 0) & (RankOps.RandomWithinFewGroups(bin, bins, generator) < perBin);
    }

    /// <summary>OHEM: the <paramref name="budget"/> eligible candidates with the highest loss (ties to the lower index).</summary>
    /// <param name="eligible">[B, N] bool.</param>
    /// <param name="loss">[B, N] per-candidate classification loss (positives with their labels, negatives as background).</param>
    /// <param name="budget">[B] int64.</param>
    /// <returns>[B, N] bool.</returns>
    public static Tensor HardestByLoss(Tensor eligible, Tensor loss, Tensor budget)
    {
        using var scope = NewDisposeScope();
        var rank = RankOps.WithinGroups(eligible.to(int64) - 1, -loss.detach());
        return (eligible & (rank < budget.unsqueeze(-1))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Score-HLR negatives (PISA), given the box head's outputs on every candidate (computed without gradient). Valid =
    /// negative with max foreground softmax &gt; score_thr; valid ones are decoded with their best class's deltas, grouped by
    /// <see cref="Nms.Match"/> and ranked by <see cref="Hlr.Score"/>. The <c>min(valid, budget')</c> most important are
    /// taken, the rest drawn at random from the invalid ones. Their ISR-N weights are <see cref="Reweight.IsrN"/>.
    /// </summary>
    /// <param name="negatives">[B, N] bool candidates to choose from.</param>
    /// <param name="clsScore">[B, N, C+1] logits.</param>
    /// <param name="bboxPred">[B, N, 4C] class-specific deltas.</param>
    /// <param name="rois">[B, N, 4].</param>
    /// <param name="budget">[B] int64.</param>
    public static ScoreHlrSample ScoreHlrNegatives(Tensor negatives, Tensor clsScore, Tensor bboxPred, Tensor rois, Tensor budget,
        ScoreHlrSettings settings, BoxCoder coder, Compat compat, Generator? generator)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long n = negatives.shape[1], classes = clsScore.shape[^1] - 1;
        // One log-softmax pass gives the foreground scores and the background cross-entropy.
        var logProbabilities = clsScore.log_softmax(-1);
        var (maxScore, bestClass) = logProbabilities[TensorIndex.Ellipsis, TensorIndex.Slice(0, classes)].max(-1);
        maxScore.exp_(); // the best foreground log-probability becomes its probability
        var valid = negatives & (maxScore > settings.ScoreThr);
        var boxes = coder.Decode(rois, Boxes.DeltasOfClass(bboxPred, bestClass));
        var groups = Nms.Match(boxes, maxScore, valid, settings.IoUThr);
        var hlrRank = Hlr.Score(groups, maxScore, valid, compat);

        var numValid = RankOps.Count(valid);
        var numNegatives = RankOps.Count(negatives);
        var expected = minimum(numNegatives, budget);
        var numHlr = minimum(numValid, expected);
        var numHlrColumn = numHlr.unsqueeze(-1);
        // Ranks of the boxes a draw does not rank are at least its eligible count (HLR: the valid boxes; the random fill:
        // N), never below its budget: comparing with the budget alone picks only ranked boxes.
        var hlrPick = hlrRank < numHlrColumn;
        var invalidNegatives = negatives ^ valid; // valid boxes are negatives
        var randomRank = RankOps.Random(invalidNegatives, generator);
        var randomPick = randomRank < (expected - numHlr).unsqueeze(-1);
        var selected = hlrPick | randomPick;
        var order = where(hlrPick, hlrRank, where(randomPick, randomRank + numHlrColumn, n));
        var backgroundLoss = -logProbabilities[TensorIndex.Ellipsis, classes];
        if (backgroundLoss.dtype != float32) backgroundLoss = backgroundLoss.to(float32);
        var hasNegatives = numNegatives > 0;
        return new ScoreHlrSample(selected.MoveToOuterDisposeScope(), order.MoveToOuterDisposeScope(), numValid.MoveToOuterDisposeScope(),
            expected.MoveToOuterDisposeScope(), backgroundLoss.MoveToOuterDisposeScope(), hasNegatives.MoveToOuterDisposeScope());
    }
}
