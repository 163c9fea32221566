using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>
/// Rank building blocks shared by the samplers and HLR (<see cref="Hlr"/>): every "sort, then number the items inside their group"
/// is expressed here once, with sorts, scatters and cumulative maxima instead of loops.
/// </summary>
public static class RankOps
{
    /// <summary>The inverse permutation of <paramref name="order"/> along the last dimension: where each item landed.</summary>
    /// <param name="order">[..., N] int64, a permutation of 0..N-1 in every row (e.g. from <c>argsort</c>).</param>
    /// <returns>[..., N] int64: <c>rank[order[i]] = i</c>.</returns>
    public static Tensor Inverse(Tensor order)
    {
        using var scope = NewDisposeScope();
        // Every slot is written (order is a permutation), so the scatter may start from any tensor of the shape.
        return order.scatter(-1, order, Positions(order)).MoveToOuterDisposeScope();
    }

    /// <summary>Position of each item inside its run of equal group ids, for group ids already sorted along the last dimension.</summary>
    /// <param name="sortedGroups">[..., N] any dtype, equal ids adjacent.</param>
    /// <returns>[..., N] int64, 0 for the first item of each run.</returns>
    public static Tensor WithinSortedRuns(Tensor sortedGroups)
    {
        using var scope = NewDisposeScope();
        var positions = Constants.Range(sortedGroups.shape[^1], sortedGroups.device);
        // An item starts a run where it differs from the one before (item 0's comparison with the last, through roll, is
        // moot: its start position is 0 either way); each item's run starts at the latest start so far.
        var startsRun = sortedGroups != sortedGroups.roll(1, -1);
        var runStart = where(startsRun, positions, 0L).cummax(-1).values;
        return (positions - runStart).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Rank of every item inside its group after ordering by <paramref name="keys"/> (ascending, the first key most
    /// significant, ties by index). Items outside every group (<paramref name="groups"/> &lt; 0) get ranks of N or more.
    /// </summary>
    /// <param name="groups">[..., N] int64 group id, -1 for items in no group.</param>
    /// <param name="keys">each [..., N], ascending = earlier.</param>
    /// <returns>[..., N] int64.</returns>
    public static Tensor WithinGroups(Tensor groups, params Tensor[] keys)
    {
        using var scope = NewDisposeScope();
        return RanksInGroupOrder(groups, LexicographicOrder([groups, .. keys])).MoveToOuterDisposeScope();
    }

    /// <summary>The permutation sorting by several keys (the first most significant, all ascending, ties by index):
    /// stable sorts from the least significant key up.</summary>
    /// <param name="keys">each [..., N].</param>
    /// <returns>[..., N] int64.</returns>
    public static Tensor LexicographicOrder(params Tensor[] keys)
    {
        using var scope = NewDisposeScope();
        var order = StableArgsort(keys[^1]);
        for (int k = keys.Length - 2; k >= 0; k--)
            order = order.gather(-1, StableArgsort(keys[k].gather(-1, order)));
        return order.MoveToOuterDisposeScope();
    }

    /// <summary>A uniformly random order of the eligible items of each row: rank 0..count-1 for them, N for the others.</summary>
    /// <param name="eligible">[..., N] bool.</param>
    /// <returns>[..., N] int64.</returns>
    public static Tensor Random(Tensor eligible, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long n = eligible.shape[^1];
        // Walking a row in a uniformly shuffled order, the eligible items met so far number an eligible item's rank:
        // a shuffle and a cumulative sum instead of sorting random keys.
        var order = Shuffles(eligible.shape, generator, eligible.device);
        var eligibleInOrder = eligible.gather(-1, order);
        var rankInOrder = where(eligibleInOrder, eligibleInOrder.cumsum(-1, ScalarType.Int64).sub_(1), n);
        return rankInOrder.scatter(-1, order, rankInOrder).MoveToOuterDisposeScope();
    }

    /// <summary>An independent uniform permutation of 0..N-1 in every row.</summary>
    /// <param name="shape">[..., N].</param>
    /// <returns>[..., N] int64.</returns>
    public static Tensor Shuffles(long[] shape, Generator? generator, Device device)
    {
        using var scope = NewDisposeScope();
        long n = shape[^1], rows = shape[..^1].Aggregate(1L, (a, b) => a * b);
        // One Fisher-Yates shuffle per row (randperm is linear in N; argsort of random keys is a comparison sort, several
        // times slower at proposal counts). The rows are few (images), so this is a handful of calls, not a data loop.
        if (rows == 0) return empty(shape, int64, device).MoveToOuterDisposeScope();
        var shuffles = new Tensor[rows];
        for (long r = 0; r < rows; r++) shuffles[r] = randperm(n, dtype: int64, device: device, generator: generator);
        var stacked = stack(shuffles);
        return (shape.Length == 2 ? stacked : stacked.view(shape)).MoveToOuterDisposeScope();
    }

    /// <summary>A uniformly random order inside every group: a random draw without replacement per group.</summary>
    /// <param name="groups">[..., N] int64 group id, -1 for items in no group.</param>
    /// <returns>[..., N] int64 rank inside the group (N or more outside every group).</returns>
    public static Tensor RandomWithinGroups(Tensor groups, Generator? generator)
    {
        using var scope = NewDisposeScope();
        // Shuffle, then sort the shuffled items by group (stable): inside a group they keep the shuffled order.
        var shuffled = Shuffles(groups.shape, generator, groups.device);
        var (sortedGroups, byGroup) = groups.gather(-1, shuffled).sort(-1, stable: true);
        return RanksInSortedGroups(sortedGroups, shuffled.gather(-1, byGroup)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="RandomWithinGroups"/> for a few dense group ids <c>0..groupCount-1</c> (IoU bins): the same shuffle, then each
    /// item's rank is the number of its group met before it in shuffled order, a cumulative count over <c>[..., N, groupCount]</c>
    /// instead of a sort.
    /// </summary>
    /// <param name="groups">[..., N] int64 in <c>-1..groupCount-1</c>, -1 for items in no group.</param>
    /// <returns>[..., N] int64 rank inside the group (N outside every group).</returns>
    public static Tensor RandomWithinFewGroups(Tensor groups, long groupCount, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long n = groups.shape[^1];
        var shuffled = Shuffles(groups.shape, generator, groups.device);
        var groupInOrder = groups.gather(-1, shuffled);
        var isGroup = groupInOrder.unsqueeze(-1) == Constants.Range(groupCount, groups.device);
        // The count of its own group met so far (the one-hot row picks it): 1 for the first member.
        var metSoFar = isGroup.cumsum(-2, ScalarType.Int64).mul_(isGroup).sum(-1);
        var rankInOrder = where(groupInOrder >= 0, metSoFar.sub_(1), n);
        return rankInOrder.scatter(-1, shuffled, rankInOrder).MoveToOuterDisposeScope();
    }

    /// <summary>Draws <paramref name="count"/> eligible items per row uniformly without replacement (all of them if fewer).</summary>
    /// <param name="eligible">[B, N] bool.</param>
    /// <param name="count">[B] or [B, 1] int64.</param>
    /// <returns>[B, N] bool.</returns>
    public static Tensor PickRandom(Tensor eligible, Tensor count, Generator? generator) =>
        PickRandomWhere(eligible, generator, metSoFar => metSoFar <= Column(count));

    /// <summary><see cref="PickRandom(Tensor, Tensor, Generator?)"/> with the same count for every row.</summary>
    public static Tensor PickRandom(Tensor eligible, long count, Generator? generator) =>
        PickRandomWhere(eligible, generator, metSoFar => metSoFar <= count);

    /// <summary>The eligible items whose number in shuffled order (1 for the first met) passes <paramref name="keep"/>.</summary>
    private static Tensor PickRandomWhere(Tensor eligible, Generator? generator, Func<Tensor, Tensor> keep)
    {
        using var scope = NewDisposeScope();
        // Random's shuffle and count, kept as a mask: the first `count` eligible items met in shuffled order.
        var order = Shuffles(eligible.shape, generator, eligible.device);
        var eligibleInOrder = eligible.gather(-1, order);
        var pickedInOrder = keep(eligibleInOrder.cumsum(-1, ScalarType.Int64)).logical_and_(eligibleInOrder);
        return pickedInOrder.scatter(-1, order, pickedInOrder).MoveToOuterDisposeScope();
    }

    /// <summary>The sorting permutation along the last dimension, ties kept in index order.</summary>
    /// <param name="keys">[..., N].</param>
    /// <returns>[..., N] int64.</returns>
    public static Tensor StableArgsort(Tensor keys, bool descending = false) => keys.sort(-1, descending, stable: true).Indices;

    /// <summary>Each item's rank inside its group, given an order that sorts by group; items of no group (&lt; 0) get N.</summary>
    private static Tensor RanksInGroupOrder(Tensor groups, Tensor order) => RanksInSortedGroups(groups.gather(-1, order), order);

    /// <summary><see cref="RanksInGroupOrder"/> with the groups already gathered in that order.</summary>
    private static Tensor RanksInSortedGroups(Tensor sortedGroups, Tensor order)
    {
        var rankSorted = where(sortedGroups >= 0, WithinSortedRuns(sortedGroups), sortedGroups.shape[^1]);
        // Every slot is written (order is a permutation): the scatter may start from the ranks themselves.
        return rankSorted.scatter(-1, order, rankSorted);
    }

    /// <summary>Number of true items per row, as int64.</summary>
    /// <param name="mask">[B, N] bool.</param>
    /// <returns>[B] int64.</returns>
    public static Tensor Count(Tensor mask) => mask.sum(-1, type: ScalarType.Int64);

    /// <summary><see cref="Count"/> as a column <c>[B, 1]</c>, ready to compare with a row of ranks.</summary>
    internal static Tensor CountColumn(Tensor mask) => mask.sum(-1, keepdim: true, type: ScalarType.Int64);

    /// <summary>A per-row value <c>[B]</c> as a column <c>[B, 1]</c> (a column stays as it is).</summary>
    internal static Tensor Column(Tensor perRow) => perRow.dim() == 1 ? perRow.unsqueeze(-1) : perRow;

    /// <summary><c>0..N-1</c> along the last dimension of <paramref name="like"/>, broadcast to its shape.</summary>
    private static Tensor Positions(Tensor like) => Constants.Range(like.shape[^1], like.device).expand_as(like);
}
