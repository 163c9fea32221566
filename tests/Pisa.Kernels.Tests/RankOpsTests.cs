using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>The random rank building blocks: the right ranks for the right items, and every order equally likely.</summary>
public class RanksTests
{
    [Fact]
    public void Every_shuffle_row_is_a_permutation_and_rows_are_drawn_independently()
    {
        var shuffles = RankOps.Shuffles([3, 40], new Generator(5), CPU);
        for (int r = 0; r < 3; r++)
            Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), shuffles[r].sort().Values.data<long>().ToArray());
        // Two equal rows of 40 would be a 1-in-40! event: equal rows mean one shuffle was reused.
        Assert.False((shuffles[0] == shuffles[1]).all().item<bool>());
    }

    [Fact]
    public void Random_ranks_number_the_eligible_items_from_zero_and_put_the_others_at_n()
    {
        var eligible = tensor(new[] { true, false, true, true, false, true, false }).view(1, 7);
        var rank = RankOps.Random(eligible, new Generator(3))[0].data<long>().ToArray();
        Assert.Equal([0L, 1, 2, 3], new[] { rank[0], rank[2], rank[3], rank[5] }.Order());
        Assert.Equal([7L, 7, 7], new[] { rank[1], rank[4], rank[6] });
    }

    [Fact]
    public void Random_gives_every_eligible_item_the_first_rank_equally_often()
    {
        // 4 eligible items of 6, 4000 draws: each should come first 1000 times (sd = sqrt(4000 * 1/4 * 3/4) ~ 27);
        // a window of +-150 (5.5 sd) never fails by chance with this seed but catches any bias by position.
        var eligible = tensor(new[] { false, true, true, false, true, true }).expand(4000, 6).contiguous();
        var first = (RankOps.Random(eligible, new Generator(11)) == 0).sum(0, type: ScalarType.Int64).data<long>().ToArray();
        Assert.Equal([0L, 0L], new[] { first[0], first[3] });
        foreach (int i in new[] { 1, 2, 4, 5 }) Assert.InRange(first[i], 850, 1150);
    }

    [Fact]
    public void Random_within_groups_ranks_each_group_from_zero_uniformly()
    {
        // Groups {0, 2, 4} and {1, 5}; item 3 is in none. Each member of the 3-group comes first a third of 3000 draws
        // (sd ~ 26), each of the 2-group half of them (sd ~ 27).
        var groups = tensor(new long[] { 0, 1, 0, -1, 0, 1 }).expand(3000, 6).contiguous();
        var rank = RankOps.RandomWithinGroups(groups, new Generator(13));
        Assert.True((rank[.., 3] >= 6).all().item<bool>());
        var sorted3 = rank.index_select(1, tensor(new long[] { 0, 2, 4 })).sort(1).Values;
        Assert.True((sorted3 == tensor(new long[] { 0, 1, 2 })).all().item<bool>());
        var sorted2 = rank.index_select(1, tensor(new long[] { 1, 5 })).sort(1).Values;
        Assert.True((sorted2 == tensor(new long[] { 0, 1 })).all().item<bool>());
        var first = (rank == 0).sum(0, type: ScalarType.Int64).data<long>().ToArray();
        foreach (int i in new[] { 0, 2, 4 }) Assert.InRange(first[i], 850, 1150);
        foreach (int i in new[] { 1, 5 }) Assert.InRange(first[i], 1350, 1650);
    }
}
