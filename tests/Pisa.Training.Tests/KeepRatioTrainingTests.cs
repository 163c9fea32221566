using Pisa.Training.Engine;
using Pisa.Training.Runs;

namespace Pisa.Training.Tests;

/// <summary>Training with keep-ratio multi-scale batches (mixed sizes, padded) resumes exactly, with or without prefetch.</summary>
[Collection(TrainingCollection.Name)]
public class KeepRatioTrainingTests
{
    [Theory]
    [InlineData("faster-rcnn")]
    [InlineData("retinanet")]
    public void A_multi_scale_run_without_prefetch_equals_a_prefetched_run_stopped_after_3_iterations_and_resumed(string name)
    {
        using var dir = new TempDirectory();
        // 64 px scenes drawn at short side 32 or 48 per image: batches of mixed sizes padded to 64 (pad_divisor 32).
        var (recipe, pipeline) = TrainingFixtures.Recipe(name, "train.scale=[96, 48]", "train.multiscale=[32, 48]");
        var whole = TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options() with { Prefetch = 0 }, dir.In("whole"));
        var stopped = TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options(maxIterations: 3) with { Prefetch = 2 }, dir.In("parts"));
        Assert.Equal(3, stopped.Step);
        var resumed = TrainingRuns.Resume(stopped.RunDirectory, recipe, pipeline, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options() with { Prefetch = 2 });
        Assert.True(resumed.Completed);

        var expected = MetricsLog.Read(Path.Combine(whole.RunDirectory, "metrics.jsonl"));
        var actual = MetricsLog.Read(Path.Combine(stopped.RunDirectory, "metrics.jsonl"));
        Assert.Equal(expected.Select(r => r.Step), actual.Select(r => r.Step));
        static IEnumerable<KeyValuePair<string, double>> Logged(MetricsRecord r) => r.Values.Where(v => v.Key != RunLog.WallName).OrderBy(v => v.Key);
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(Logged(expected[i]), Logged(actual[i]));
        Assert.All(expected.SelectMany(r => r.Values.Values), v => Assert.True(double.IsFinite(v)));
        Assert.Contains(expected, r => r.Values.ContainsKey("AP"));
        Assert.Equal(File.ReadAllText(Path.Combine(whole.RunDirectory, "detections_val.json")),
            File.ReadAllText(Path.Combine(stopped.RunDirectory, "detections_val.json")));
    }
}
