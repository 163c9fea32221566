using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using TorchSharp;

namespace Pisa.Training.Tests;

[Collection(TrainingCollection.Name)]
public class EndToEndTrainingTests
{
    [Fact]
    public void A_run_folder_holds_the_resolved_recipe_metrics_plots_tensorboard_checkpoints_and_val_detections()
    {
        using var dir = new TempDirectory();
        var (recipe, pipeline) = TrainingFixtures.Recipe("faster-rcnn");
        var result = TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options(), dir.Path);

        Assert.True(result.Completed);
        Assert.Equal(8, result.Step); // 8 images / batch 2 = 4 iterations per epoch, 2 epochs
        Assert.StartsWith(Path.Combine(dir.Path, "faster-rcnn", "default") + Path.DirectorySeparatorChar, result.RunDirectory);
        string In(string name) => Path.Combine(result.RunDirectory, name);
        Assert.Contains("train:", File.ReadAllText(In("recipe.resolved.yaml")));
        var description = TrainingData.Read(result.RunDirectory);
        Assert.Equal(TrainingFixtures.DataDescription, description with { Numerics = null });
        Assert.Equal(Pisa.Training.Platform.TorchPlatform.Configure().Policy.Describe(), description.Numerics?.Convolutions);

        var records = MetricsLog.Read(In("metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), records.Where(r => r.Values.ContainsKey("loss")).Select(r => r.Step));
        var evaluations = records.Where(r => r.Values.ContainsKey("AP50")).ToList();
        Assert.Equal([1.0, 2.0], evaluations.Select(e => e.Values["epoch"]));
        Assert.All(evaluations, e => Assert.InRange(e.Values["AP50"], 0, 1));
        Assert.All(evaluations, e => Assert.True(e.Values["score_iou_count"] >= 0));
        Assert.All(evaluations, e => Assert.InRange(e.Values.GetValueOrDefault("score_iou_pearson", 0), -1, 1)); // absent when undefined, never NaN
        Assert.StartsWith("step,", File.ReadLines(In("metrics.csv")).First());

        // pisa compare's reading of the folder: the resolved recipe's name, the last evaluation, the wall clock.
        var summary = RunSummary.Read(result.RunDirectory);
        Assert.Equal(("faster-rcnn", "default", true), (summary.Recipe, summary.Variant, summary.FiniteLosses));
        Assert.Equal(evaluations[^1].Values, summary.Validation);
        Assert.Equal(records[^1].Values[RunLog.WallName], summary.WallSeconds);
        Assert.True(summary.WallSeconds > 0);

        foreach (string plot in new[] { "loss", "loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox", "lr", "map", "precision_recall" })
            Assert.True(File.Exists(Path.Combine(result.RunDirectory, "plots", plot + ".png")), $"plots/{plot}.png");
        Assert.NotEmpty(Directory.GetFiles(In("tensorboard"), "events.out.tfevents*", SearchOption.AllDirectories));
        var checkpoints = new CheckpointWriter(In("checkpoints")).Checkpoints();
        Assert.Equal([4L, 8L], checkpoints.Select(c => c.Step));
        Assert.All(checkpoints, c => Assert.True(File.Exists(Path.ChangeExtension(c.Path, ".state.json"))));
        // COCO results format: every detection names a val image and a known category.
        var detections = CocoJson.ReadDetections(In("detections_val.json"));
        var imageIds = TrainingFixtures.Val.GroundTruth.Images.Select(i => i.Id).ToHashSet();
        Assert.All(detections, d => Assert.Contains(d.ImageId, imageIds));
        Assert.All(detections, d => Assert.InRange(d.CategoryId, 1, 6));
    }

    [Theory]
    [InlineData("faster-rcnn")]
    [InlineData("retinanet")]
    public void Validation_reports_the_score_iou_correlation_of_both_detector_kinds(string name)
    {
        var (recipe, pipeline) = TrainingFixtures.Recipe(name);
        torch.manual_seed(0);
        using var runner = DetectorRunner.Create(recipe, pipeline, TrainingFixtures.TinyModel);
        var result = Validation.Run(runner, TrainingFixtures.Val, 2, 64, torch.CPU);

        var metrics = result.Metrics();
        Assert.Equal(result.ScoreIoU.Count, metrics["score_iou_count"]);
        Assert.Equal(result.ScoreIoU.Pearson is not null, metrics.ContainsKey("score_iou_pearson"));
        Assert.Contains(result.ScoreIoU.Pearson is null ? "score_iou_pearson=n/a" : "score_iou_pearson=", result.Describe());
        // An untrained RetinaNet regresses (almost) nothing, so its anchors matching a ground truth are positives.
        if (name == "retinanet") Assert.True(result.ScoreIoU.Count > 0);
    }

    [Fact]
    public void A_run_stopped_after_3_iterations_and_resumed_logs_exactly_what_the_uninterrupted_run_logs()
    {
        using var dir = new TempDirectory();
        // pisa-faster-rcnn draws random samples, probes the box head (Score-HLR) and trains with momentum: all must resume exactly.
        var (recipe, pipeline) = TrainingFixtures.Recipe("pisa-faster-rcnn");
        var whole = TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options(), dir.In("whole"));
        var stopped = TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options(maxIterations: 3), dir.In("parts"));
        Assert.False(stopped.Completed);
        Assert.Equal(3, stopped.Step);
        var resumed = TrainingRuns.Resume(stopped.RunDirectory, recipe, pipeline, TrainingFixtures.Train, TrainingFixtures.Val, TrainingFixtures.Options());
        Assert.True(resumed.Completed);

        var expected = MetricsLog.Read(Path.Combine(whole.RunDirectory, "metrics.jsonl"));
        var actual = MetricsLog.Read(Path.Combine(stopped.RunDirectory, "metrics.jsonl"));
        Assert.Equal(expected.Select(r => r.Step), actual.Select(r => r.Step));
        // Everything but the wall clock: wall_s goes on from the checkpoint, so it is only ordered.
        static IEnumerable<KeyValuePair<string, double>> Logged(MetricsRecord r) => r.Values.Where(v => v.Key != RunLog.WallName).OrderBy(v => v.Key);
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(Logged(expected[i]), Logged(actual[i]));
        var wall = actual.Select(r => r.Values[RunLog.WallName]).ToList();
        Assert.Equal(wall.Order(), wall);
        Assert.Equal(File.ReadAllText(Path.Combine(whole.RunDirectory, "detections_val.json")),
            File.ReadAllText(Path.Combine(stopped.RunDirectory, "detections_val.json")));
    }

    [Fact]
    public void A_diverging_run_logs_the_non_finite_step_names_it_and_keeps_the_model_before_it()
    {
        using var dir = new TempDirectory();
        var (recipe, pipeline) = TrainingFixtures.Recipe("retinanet", "train.lr=1e12", "train.warmup_iters=0");

        var error = Assert.Throws<TrainingException>(() => TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription,
            TrainingFixtures.Train, TrainingFixtures.Val, TrainingFixtures.Options(), dir.Path));

        // The first step applies a finite but absurd update; the second step's gradients are not finite.
        Assert.Matches(@"^retinanet: the gradient of \S+ became non-finite at step 2 ", error.Message);
        Assert.Contains("This early it is rarely the learning rate: run 'pisa doctor'", error.Message);
        string run = Directory.GetDirectories(Path.Combine(dir.Path, "retinanet", "default")).Single();
        var last = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"))[^1];
        Assert.Equal(2, last.Step);
        Assert.Contains(last.Values, v => !double.IsFinite(v.Value));
        Assert.False(RunSummary.Read(run).FiniteLosses);
        string kept = Path.Combine(run, "checkpoints", "step-00000001.ckpt");
        Assert.Contains($"The model before this step is saved: {kept}.", error.Message);
        Assert.True(File.Exists(kept));
    }

    [Fact]
    public void A_cancelled_run_stops_after_the_current_iteration_with_a_checkpoint_it_resumes_from()
    {
        using var dir = new TempDirectory();
        var (recipe, pipeline) = TrainingFixtures.Recipe("retinanet");
        using var cancel = new CancellationTokenSource();
        var stopped = TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options(), dir.Path, trainer => trainer.Progress += p => { if (p.Step == 2) cancel.Cancel(); }, cancel.Token);
        Assert.False(stopped.Completed);
        Assert.Equal(2, stopped.Step);
        Assert.Equal(2, new CheckpointWriter(Path.Combine(stopped.RunDirectory, "checkpoints")).Checkpoints().Single().Step);
    }

    [Fact]
    public void A_coco_folder_with_a_corrupt_image_fails_naming_the_file_and_the_image_id()
    {
        using var dir = new TempDirectory();
        var small = new ShapesOptions { TrainCount = 3, ValCount = 2 };
        ShapesDataset.Export(dir.Path, small, ShapesSplit.Train);
        ShapesDataset.Export(dir.Path, small, ShapesSplit.Val);
        string victim = Directory.GetFiles(dir.In("train"), "*.png").Order().First();
        long id = long.Parse(Path.GetFileNameWithoutExtension(victim), System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllBytes(victim, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]); // a PNG signature cut short

        var error = Assert.Throws<DatasetException>(() => new TrainingData(dir.Path, false, 0, 0).Load());
        Assert.Contains(victim, error.Message);
        Assert.Contains($"image {id}", error.Message);

        // With --skip-bad the image is left out and reported instead.
        var (train, _) = new TrainingData(dir.Path, true, 0, 0).Load();
        Assert.Equal(2, train.Count);
        Assert.Contains(train.Warnings, w => w.Contains(victim));
    }

    [Fact]
    public void Native_tensors_alive_after_200_iterations_equal_those_after_10()
    {
        using var dir = new TempDirectory();
        var (recipe, pipeline) = TrainingFixtures.Recipe("faster-rcnn", "train.epochs=100", "train.batch=1");
        var live = new Dictionary<long, long>();
        // Progress is reported between iterations (the iteration's scope closed); finalizers run first so only
        // reachable tensors count. Batches are built in the loop: a prefetch queue holds a timing-dependent number of
        // batches ahead (its own disposal is KeepRatioPipelineTests' concern).
        TrainingRuns.Start(recipe, pipeline, TrainingFixtures.DataDescription, TrainingFixtures.Train, TrainingFixtures.Val,
            TrainingFixtures.Options(maxIterations: 200, logEvery: 10) with { EvaluateEvery = 1000, CheckpointEvery = 1000, Prefetch = 0 }, dir.Path,
            trainer => trainer.Progress += p =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                live[p.Step] = torch.Tensor.TotalCount;
            });
        Assert.Equal(live[10], live[200]);
    }
}
