using System.Text.Json;
using Pisa.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

public class RunFilesTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void A_run_folder_is_named_recipe_variant_utc_time_and_never_reused()
    {
        using var root = new TempDirectory();
        var start = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(2)); // 03:06:07 UTC

        var first = RunFolder.Create(root.Path, "pisa-faster-rcnn", "IsrK2", start);
        var second = RunFolder.Create(root.Path, "pisa-faster-rcnn", "IsrK2", start);

        Assert.Equal(root.In("pisa-faster-rcnn", "IsrK2", "20260304-030607"), first.Path);
        Assert.Equal(root.In("pisa-faster-rcnn", "IsrK2", "20260304-030607-2"), second.Path);
        Assert.True(Directory.Exists(first.CheckpointsDirectory));
        Assert.Equal(Path.Combine(first.Path, "metrics.jsonl"), first.MetricsJsonl);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    public void A_recipe_name_that_is_not_a_plain_folder_name_is_refused(string recipe)
    {
        using var root = new TempDirectory();
        var error = Assert.Throws<ArgumentException>(() => RunFolder.Create(root.Path, recipe, "v", DateTimeOffset.UnixEpoch));
        Assert.Contains($"'{recipe}'", error.Message);
    }

    [Fact]
    public void Checkpoints_keep_the_last_n_and_restore_model_and_optimizer()
    {
        using var dir = new TempDirectory();
        manual_seed(1);
        var model = nn.Linear(3, 2);
        var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
        var writer = new CheckpointWriter(dir.Path, keepLast: 2);
        foreach (long step in new long[] { 10, 20, 30 })
        {
            optimizer.zero_grad();
            model.forward(ones(1, 3)).sum().backward();
            optimizer.step();
            writer.Save(model, optimizer, step);
        }

        Assert.Equal([20L, 30], writer.Checkpoints().Select(c => c.Step));
        Assert.Equal(["step-00000020.ckpt", "step-00000030.ckpt"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());

        manual_seed(2);
        var restored = nn.Linear(3, 2);
        var restoredOptimizer = optim.SGD(restored.parameters(), 0.1, momentum: 0.9);
        Assert.Equal(30, CheckpointWriter.Load(writer.Latest!, restored, restoredOptimizer));
        Assert.Equal(model.weight!.data<float>().ToArray(), restored.weight!.data<float>().ToArray());
        Assert.Equal(model.bias!.data<float>().ToArray(), restored.bias!.data<float>().ToArray());

        // The same next step from both: equal results only if the momentum buffers were restored too.
        foreach (var (m, o) in new[] { (model, optimizer), (restored, restoredOptimizer) })
        {
            o.zero_grad();
            m.forward(ones(1, 3)).sum().backward();
            o.step();
        }
        Assert.Equal(model.weight!.data<float>().ToArray(), restored.weight!.data<float>().ToArray());
    }

    [Fact]
    public void The_writer_keeps_each_checkpoint_with_its_resume_state_and_prunes_them_together()
    {
        using var dir = new TempDirectory();
        var model = nn.Linear(2, 1);
        var optimizer = optim.SGD(model.parameters(), 0.1);
        using var generator = new Generator(7);
        var writer = new CheckpointWriter(dir.Path, keepLast: 2);
        File.WriteAllText(dir.In("step-00000005.state.json"), "{}"); // left by a crash between the state and its checkpoint
        foreach (long step in new long[] { 10, 20, 30 })
            writer.Save(model, optimizer, TrainingState.Capture(step, generator, TimeSpan.FromSeconds(step)));

        Assert.Equal(["step-00000020.ckpt", "step-00000020.state.json", "step-00000030.ckpt", "step-00000030.state.json"],
            Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var state = CheckpointWriter.ReadState(writer.Latest!, 30);
        Assert.Equal(30, state.Step);
        Assert.Equal(30.0, state.ElapsedSeconds);
    }

    [Fact]
    public void A_resume_state_of_another_step_is_an_error_naming_the_checkpoint()
    {
        using var dir = new TempDirectory();
        var model = nn.Linear(2, 1);
        using var generator = new Generator(7);
        var writer = new CheckpointWriter(dir.Path);
        string path = writer.Save(model, optim.SGD(model.parameters(), 0.1), TrainingState.Capture(10, generator, TimeSpan.Zero));
        File.Copy(path, dir.In("step-00000011.ckpt"));
        File.Copy(Path.ChangeExtension(path, ".state.json"), dir.In("step-00000011.state.json"));

        var error = Assert.Throws<Pisa.Training.Engine.TrainingException>(() => CheckpointWriter.ReadState(dir.In("step-00000011.ckpt"), 11));
        Assert.Contains("step-00000011.ckpt", error.Message);
        Assert.Contains("says 10", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_is_named_in_the_error()
    {
        using var dir = new TempDirectory();
        string path = dir.In("step-00000001.ckpt");
        File.WriteAllText(path, "hello");
        var error = Assert.Throws<InvalidDataException>(() => CheckpointWriter.Load(path, nn.Linear(1, 1)));
        Assert.Equal($"{path}: not a Pisa checkpoint", error.Message);
    }

    [Fact]
    public void Metrics_go_to_jsonl_and_csv_and_a_late_column_rewrites_the_csv()
    {
        using var dir = new TempDirectory();
        var log = new MetricsLog(dir.In("metrics.jsonl"), dir.In("metrics.csv"));
        log.Append(1, new Dictionary<string, double> { ["loss"] = 2.5, ["lr"] = 0.02 });
        log.Append(2, new Dictionary<string, double> { ["loss"] = double.NaN, ["lr"] = 0.02 });
        log.Append(3, new Dictionary<string, double> { ["loss"] = 1.25, ["mAP50"] = 0.5 });

        string[] lines = File.ReadAllLines(dir.In("metrics.jsonl"));
        Assert.Equal(3, lines.Length);
        using (var second = JsonDocument.Parse(lines[1]))
        {
            Assert.Equal(2, second.RootElement.GetProperty("step").GetInt64());
            Assert.Equal(JsonValueKind.Null, second.RootElement.GetProperty("loss").ValueKind);
        }
        Assert.Equal(["step,loss,lr,mAP50", "1,2.5,0.02,", "2,NaN,0.02,", "3,1.25,,0.5"], File.ReadAllLines(dir.In("metrics.csv")));

        var reread = MetricsLog.Read(dir.In("metrics.jsonl"));
        Assert.Equal([1L, 2, 3], reread.Select(r => r.Step));
        Assert.Equal(0.5, reread[2].Values["mAP50"]);
        Assert.True(double.IsNaN(reread[1].Values["loss"]));
    }

    [Fact]
    public void A_damaged_metrics_line_is_an_error_naming_file_and_line()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.In("metrics.jsonl"), "{\"step\": 1, \"loss\": 1}\n{\"loss\": 2}\n");
        var error = Assert.Throws<InvalidDataException>(() => MetricsLog.Read(dir.In("metrics.jsonl")));
        Assert.StartsWith($"{dir.In("metrics.jsonl")}(2): not a metrics record", error.Message);
    }

    [Fact]
    public void Line_and_bar_plots_are_written_as_png_files()
    {
        using var dir = new TempDirectory();
        Plots.Lines(dir.In("plots", "loss.png"), "loss", "step", "loss",
            [new Series("cls", [1, 2, 3], [1.0, 0.6, 0.4]), new Series("box", [1, 2, 3], [0.5, 0.4, 0.3])]);
        Plots.Bars(dir.In("plots", "ap.png"), "AP per class", "AP", [("circle", 0.8), ("square", 0.7), ("star", 0.5)]);

        foreach (string name in new[] { "loss.png", "ap.png" })
        {
            byte[] bytes = File.ReadAllBytes(dir.In("plots", name));
            Assert.Equal(PngSignature, bytes[..8]);
            Assert.True(bytes.Length > 1000, $"{name} is only {bytes.Length} bytes");
        }
        Assert.Equal(2, Directory.GetFiles(dir.In("plots")).Length); // no temporary files left behind
    }
}
