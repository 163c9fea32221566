using Pisa.Training.Engine;
using Pisa.Training.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

public class ScoreIoUCorrelationTests
{
    [Fact]
    public void Positives_take_the_best_real_gt_and_its_class_probability_and_correlate_by_hand()
    {
        // One image, 5 candidates, 3 ground truths: labels 2 and 0, and a padded third (masked, IoU 0.99 everywhere).
        //   candidate 0: IoU (0.90, 0.10) → gt 0, class 2, p = 0.7, positive
        //   candidate 1: IoU (0.20, 0.60) → gt 1, class 0, p = 0.5, positive
        //   candidate 2: IoU (0.40, 0.30) → best 0.40 < 0.5, not positive
        //   candidate 3: IoU (0.70, 0.80) → gt 1, class 0, p = 0.6, positive
        //   candidate 4: IoU (0.95, 0.00) but not a real candidate (padding)
        // Positives (score, IoU): (0.7, 0.9), (0.5, 0.6), (0.6, 0.8). Means 0.6 and 2.3/3; deviations
        // dx = (0.1, -0.1, 0), dy = (0.4, -0.5, 0.1)/3: Σdx·dy = 0.09/3, Σdx² = 0.02, Σdy² = 0.42/9,
        // r = (0.09/3) / sqrt(0.02 · 0.42/9) = 0.09 / sqrt(0.0084) ≈ 0.98198.
        float[,] ious = { { 0.90f, 0.10f, 0.99f }, { 0.20f, 0.60f, 0.99f }, { 0.40f, 0.30f, 0.99f }, { 0.70f, 0.80f, 0.99f }, { 0.95f, 0.00f, 0.99f } };
        float[,] probabilities = { { 0.1f, 0.2f, 0.7f }, { 0.5f, 0.3f, 0.2f }, { 0.3f, 0.3f, 0.4f }, { 0.6f, 0.1f, 0.3f }, { 0f, 0f, 1f } };
        bool[] candidates = [true, true, true, true, false];

        var whole = new ScoreIoUCorrelation();
        Add(whole, ious, probabilities, candidates, 0, 5);
        Assert.Equal(3, whole.Count);
        Assert.Equal(0.09 / Math.Sqrt(0.0084), whole.Pearson!.Value, 1e-6);

        // The same candidates in two batches merge to the same statistic.
        var split = new ScoreIoUCorrelation();
        Add(split, ious, probabilities, candidates, 0, 2);
        Add(split, ious, probabilities, candidates, 2, 5);
        Assert.Equal(3, split.Count);
        Assert.Equal(whole.Pearson.Value, split.Pearson!.Value, 1e-12);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-1.0)]
    public void Scores_linear_in_iou_correlate_perfectly(double sign)
    {
        // Ten positives with IoU 0.5, 0.55, … 0.95 and scores 0.5 ± 0.04·i, plus two negatives whose scores would spoil it.
        const int n = 12;
        var ious = new float[n, 1];
        var probabilities = new float[n, 1];
        for (int i = 0; i < n; i++)
        {
            ious[i, 0] = i < 10 ? 0.5f + 0.05f * i : 0.3f;
            probabilities[i, 0] = i < 10 ? (float)(0.5 + sign * 0.04 * i) : 0.99f;
        }
        var correlation = new ScoreIoUCorrelation();
        Add(correlation, ious, probabilities, Enumerable.Repeat(true, n).ToArray(), 0, n, labels: [0]);

        Assert.Equal(10, correlation.Count);
        Assert.Equal(sign, correlation.Pearson!.Value, 1e-6);
    }

    [Fact]
    public void Fewer_than_two_positives_or_no_variance_leave_the_correlation_undefined()
    {
        float[,] onePositive = { { 0.8f }, { 0.2f } };
        var one = new ScoreIoUCorrelation();
        Add(one, onePositive, new float[,] { { 0.3f }, { 0.9f } }, [true, true], 0, 2, labels: [0]);
        Assert.Equal(1, one.Count);
        Assert.Null(one.Pearson);

        var none = new ScoreIoUCorrelation();
        Add(none, new float[,] { { 0.1f }, { 0.2f } }, new float[,] { { 0.3f }, { 0.9f } }, [true, true], 0, 2, labels: [0]);
        Assert.Equal(0, none.Count);
        Assert.Null(none.Pearson);

        // Equal scores: no variance, so no correlation (not NaN).
        var flat = new ScoreIoUCorrelation();
        Add(flat, new float[,] { { 0.6f }, { 0.7f }, { 0.9f } }, new float[,] { { 0.1f }, { 0.1f }, { 0.1f } }, [true, true, true], 0, 3, labels: [0]);
        Assert.Equal(3, flat.Count);
        Assert.Null(flat.Pearson);
    }

    /// <summary>Adds candidates [from, to) of one image; ground truths are the IoU columns, the last one padding when there are 3.</summary>
    private static void Add(ScoreIoUCorrelation correlation, float[,] ious, float[,] probabilities, bool[] candidates, int from, int to, long[]? labels = null)
    {
        int g = ious.GetLength(1), c = probabilities.GetLength(1);
        labels ??= [2, 0, 1];
        bool[] gtMask = labels.Length == 3 ? [true, true, false] : [.. Enumerable.Repeat(true, g)];
        int k = to - from;
        var iouRows = Enumerable.Range(from, k).SelectMany(i => Enumerable.Range(0, g).Select(j => ious[i, j])).ToArray();
        var probabilityRows = Enumerable.Range(from, k).SelectMany(i => Enumerable.Range(0, c).Select(j => probabilities[i, j])).ToArray();
        using var scope = NewDisposeScope();
        correlation.Add(tensor(iouRows).reshape(1, k, g), tensor(probabilityRows).reshape(1, k, c), tensor(candidates[from..to]).reshape(1, k),
            tensor(labels).reshape(1, g), tensor(gtMask).reshape(1, g));
    }
}
