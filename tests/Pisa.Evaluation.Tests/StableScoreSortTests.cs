namespace Pisa.Evaluation.Tests;

/// <summary>The ranking behind every tie rule: highest score first, equal scores by ascending position.</summary>
public class StableScoreSortTests
{
    [Fact]
    public void Equal_scores_keep_their_positions_in_large_runs()
    {
        // Position i scores i % 3: the order is every position with score 2 ascending, then score 1, then score 0.
        // Runs of ~333 equal keys are far past the size where the runtime's sort is an insertion sort (and stable by accident).
        const int count = 1000;
        double[] scores = [.. Enumerable.Range(0, count).Select(i => (double)(i % 3))];
        int[] expected = [.. Enumerable.Range(0, count).Where(i => i % 3 == 2), .. Enumerable.Range(0, count).Where(i => i % 3 == 1), .. Enumerable.Range(0, count).Where(i => i % 3 == 0)];
        var order = new int[count];
        StableScoreSort.Sort(scores, new double[count], order);
        Assert.Equal(expected, order);
    }

    [Fact]
    public void Distinct_scores_sort_highest_first()
    {
        var order = new int[4];
        StableScoreSort.Sort([0.25, 0.9, -1.5, 0.5], new double[4], order);
        Assert.Equal([1, 3, 0, 2], order);
    }
}
