using Pisa.Evaluation.Coco;
using SkiaSharp;

namespace Pisa.Cli.Tests;

/// <summary>
/// <c>pisa detect</c> on a run trained for four iterations on an exported slice of builtin:shapes (64 px): its boxes
/// are the ones the run's own final evaluation wrote, and every image gets a picture.
/// </summary>
[Collection(nameof(CliRunner))]
public sealed class DetectCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pisa-detect-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string In(params string[] parts) => Path.Combine([_folder, .. parts]);

    /// <summary>A faster-rcnn run (softmax scores start near 1/7, so an untrained model already has boxes above 0.05).</summary>
    private string TrainTinyRun()
    {
        Assert.Equal(PisaApp.Ok, CliRunner.Run("data", "export", "builtin:shapes", In("data"), "--train-count", "8", "--val-count", "5").Code);
        var (code, _, error) = CliRunner.Run("train", RepoPaths.InRoot("recipes", "faster-rcnn.yaml"), "--data", In("data"),
            "--set", "train.image_size=64", "--set", "train.batch=2", "--set", "train.epochs=1", "--set", "train.warmup_iters=2",
            "--set", "sample.num=32", "--set", "rpn.train_proposals=48", "--set", "rpn.test_proposals=48", "--device", "cpu", "--out", In("runs"));
        Assert.True(code == PisaApp.Ok, error);
        return Directory.GetDirectories(In("runs", "faster-rcnn", "default")).Single();
    }

    [Fact]
    public void Detect_writes_a_picture_per_image_and_the_boxes_the_runs_evaluation_found()
    {
        string run = TrainTinyRun();
        var (code, output, error) = CliRunner.Run("detect", run, In("data", "val"), "--score-thr", "0.1", "--out", In("out"));
        Assert.True(code == PisaApp.Ok, error);

        var valImages = Directory.GetFiles(In("data", "val"), "*.png").Select(f => Path.GetFileName(f)!).Order().ToList();
        Assert.Equal(5, valImages.Count);
        Assert.Equal(valImages, Directory.GetFiles(In("out"), "*.png").Select(Path.GetFileName).Order());
        foreach (string png in valImages)
        {
            using var picture = SKBitmap.Decode(In("out", png));
            Assert.Equal((512, 512), (picture.Width, picture.Height)); // 128 px images, enlarged four times
        }
        Assert.Equal(5, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // The run's final evaluation (same checkpoint, same images) wrote every detection above 0.05.
        var expected = CocoJson.ReadDetections(Path.Combine(run, "detections_val.json")).Where(d => d.Score > 0.1).ToList();
        var detected = CocoJson.ReadDetections(In("out", "detections.json"));
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, detected.Count);
        foreach (var (want, got) in expected.Zip(detected))
        {
            Assert.Equal((want.ImageId, want.CategoryId, want.Score), (got.ImageId, got.CategoryId, got.Score));
            Assert.Equal(want.Bbox, got.Bbox);
        }
        // After its evaluation the run kept four val images drawn.
        Assert.Equal(4, Directory.GetFiles(Path.Combine(run, "vis", "epoch_1"), "*.png").Length);
    }

    [Fact]
    public void A_missing_run_is_an_error_naming_it()
    {
        var (code, _, error) = CliRunner.Run("detect", In("no-run"), In("image.png"));
        Assert.NotEqual(PisaApp.Ok, code);
        Assert.Contains(In("no-run"), error);
    }

    [Fact]
    public void A_missing_image_is_an_error_naming_it()
    {
        Directory.CreateDirectory(In("run", "checkpoints"));
        File.WriteAllText(In("run", "checkpoints", "step-1.ckpt"), "not read: the images are checked first");
        var (code, _, error) = CliRunner.Run("detect", In("run", "checkpoints", "step-1.ckpt"), In("missing.png"));
        Assert.NotEqual(PisaApp.Ok, code);
        Assert.Contains(In("missing.png"), error);
    }
}
