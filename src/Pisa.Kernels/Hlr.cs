using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>IoU-HLR ranks of the positives and the largest per-class positive count M they are measured against.</summary>
/// <param name="Rank">[P] int64, 0 = most important inside its class; -1 for non-positives.</param>
/// <param name="MaxPerClass">[] int64: M, the largest number of positives of any one class in the batch.</param>
public sealed record IoUHlrRanks(Tensor Rank, Tensor MaxPerClass);

/// <summary>Hierarchical Local Rank (ALGORITHMS.md, "Ranking"): IoU-HLR of positives and Score-HLR of negatives, over a whole
/// batch with sorts instead of loops (the sort-and-number blocks are <see cref="RankOps"/>).</summary>
public static class Hlr
{
    /// <summary>
    /// IoU-HLR of the positives: inside each gt, the local rank by descending IoU; inside each class, rank by
    /// <c>IoU + (M - local rank)</c> descending. <see cref="Compat.Mmdet"/> sorts that sum as one float32 key (Q6);
    /// <see cref="Compat.Corrected"/> ranks (local rank, then IoU) exactly. Ties go to the lower index in both.
    /// </summary>
    /// <param name="ious">[P] IoU of each sample's predicted box with its target box.</param>
    /// <param name="gtIds">[P] int64 gt id unique in the batch.</param>
    /// <param name="labels">[P] int64 class.</param>
    /// <param name="positive">[P] bool: which entries are positives (the others are ignored).</param>
    public static IoUHlrRanks IoU(Tensor ious, Tensor gtIds, Tensor labels, Tensor positive, long numClasses, Compat compat)
    {
        using var scope = NewDisposeScope();
        var classOf = where(positive, labels, -1L);
        // Positives counted per class (the others in an extra bin C that is left out of the max).
        var perClass = where(positive, labels, numClasses).bincount(null, numClasses + 1);
        var maxPerClass = perClass[TensorIndex.Slice(0, numClasses)].amax([0]);

        // A gt belongs to one class, but gt ids may repeat across classes (quirk Q3): group by (class, gt). Every id is below
        // the span, so an entry outside every class (class -1) lands in a group below 0, which is no group.
        var gtSpan = gtIds.amax([0]).clamp_min_(0).add_(1);
        var gtGroup = classOf * gtSpan + gtIds;
        var iou32 = ious.dtype == float32 ? ious : ious.to(float32);
        var localRank = RankOps.WithinGroups(gtGroup, -iou32);

        var rank = compat == Compat.Mmdet
            ? RankByClassThenKey(classOf, (localRank - maxPerClass).to(float32).sub_(iou32), numClasses) // -(iou + (M - r)), exactly
            : RankOps.WithinGroups(classOf, localRank, -iou32);
        rank = where(positive, rank, -1L);
        return new IoUHlrRanks(rank.MoveToOuterDisposeScope(), maxPerClass.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Rank inside each class by a float32 key (ascending, ties by index), with one stable sort of the float64 key
    /// <c>class * S + key</c> instead of two. Exact: a positive's key is at least 1 in magnitude and at most P + 1 (a
    /// non-positive's at most 2P + 1), S = a power of two above 4(P + 2) keeps the classes apart, and the sum needs at
    /// most log2((C+1) S) + 23 bits, within float64's 53 when (C+1) S &lt;= 2^29; beyond that, two sorts.
    /// </summary>
    /// <param name="classOf">[P] int64 class, -1 outside every class (those ranks mean nothing; the caller drops them).</param>
    /// <param name="key">[P] float32.</param>
    /// <returns>[P] int64.</returns>
    private static Tensor RankByClassThenKey(Tensor classOf, Tensor key, long numClasses)
    {
        long p = classOf.shape[0];
        double spacing = Math.Pow(2, Math.Ceiling(Math.Log2(4.0 * (p + 2))));
        if ((numClasses + 1) * spacing > (1L << 29)) return RankOps.WithinGroups(classOf, key);
        using var scope = NewDisposeScope();
        // A NaN key (a NaN IoU) sorts after its class's numbers, as the two-sort order puts it.
        var combined = classOf.to(float64).mul_(spacing).add_(key.to(float64).nan_to_num_(nan: spacing / 4));
        var order = RankOps.StableArgsort(combined);
        var sortedClass = classOf.gather(-1, order);
        var rankSorted = RankOps.WithinSortedRuns(sortedClass);
        return zeros_like(rankSorted).scatter_(-1, order, rankSorted).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Score-HLR order of valid negatives: importance of the j-th member of an nms_match group is
    /// <c>num_valid - j + score</c>, descending. <see cref="Compat.Mmdet"/> sorts that as one float32 key (Q6),
    /// <see cref="Compat.Corrected"/> ranks (j, then score) exactly; ties go to the lower index.
    /// </summary>
    /// <param name="groups">the nms_match grouping of the valid boxes.</param>
    /// <param name="scores">[B, N] float32 max foreground score.</param>
    /// <param name="valid">[B, N] bool.</param>
    /// <returns>[B, N] int64 rank among the valid boxes of the image (0 = most important); invalid boxes rank after every valid one.</returns>
    public static Tensor Score(NmsMatchResult groups, Tensor scores, Tensor valid, Compat compat)
    {
        using var scope = NewDisposeScope();
        long n = scores.shape[^1];
        var score32 = scores.dtype == float32 ? scores : scores.to(float32);
        if (compat == Compat.Mmdet)
        {
            // -(a + b) is (-a) - b exactly (negation is exact, rounding symmetric): the negated importance
            // -((num_valid - j) + score) in two subtractions, without negating it afterwards.
            var negatedImportance = (groups.PositionInGroup - RankOps.CountColumn(valid)).to(float32).sub_(score32);
            // One group (the valid boxes): a single stable sort, the invalid ones last.
            var key = where(valid, negatedImportance, float.PositiveInfinity);
            return RankOps.Inverse(RankOps.StableArgsort(key)).MoveToOuterDisposeScope();
        }
        // Lexicographic: position in group first, then score (descending); invalid boxes form no group and come last.
        var position = groups.PositionInGroup.masked_fill(~valid, n);
        var outside = valid.to(int64) - 1;
        return RankOps.WithinGroups(outside, position, -score32).MoveToOuterDisposeScope();
    }
}
