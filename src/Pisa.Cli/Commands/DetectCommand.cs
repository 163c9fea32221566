using System.ComponentModel;
using System.Globalization;
using Pisa.Evaluation.Coco;
using Pisa.Training.Inference;
using Pisa.Training.Engine;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary>
/// <c>pisa detect RUN|CHECKPOINT IMAGE-OR-FOLDER… [--score-thr 0.3] [--out DIR]</c>: a trained detector on image files.
/// Writes <c>detections.json</c> (COCO results, the run's category ids) and one PNG per image with its detections drawn.
/// </summary>
public sealed class DetectCommand : Command<DetectCommand.Settings>
{
    public const string DetectionsFile = "detections.json";

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("A run folder (its newest checkpoint) or a checkpoint file.")]
        public string Run { get; init; } = "";

        [CommandArgument(1, "<IMAGES>")]
        [Description("Image files or folders of them (png, jpg, bmp, gif, webp; folders not recursive).")]
        public string[] Images { get; init; } = [];

        [CommandOption("--score-thr <SCORE>")]
        [Description("Keep detections scoring above this (default 0.3).")]
        public double ScoreThreshold { get; init; } = 0.3;

        [CommandOption("--out <DIR>")]
        [Description("Where the JSON and the PNGs go (default: RUN/detect).")]
        public string? Out { get; init; }

        public override Spectre.Console.ValidationResult Validate() =>
            ScoreThreshold is >= 0 and < 1 ? Spectre.Console.ValidationResult.Success()
                : Spectre.Console.ValidationResult.Error($"--score-thr must be in [0, 1), not {ScoreThreshold.ToString(CultureInfo.InvariantCulture)}");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var (runDirectory, checkpoint) = TrainingRuns.Locate(settings.Run);
            var files = DetectionImages.Expand(settings.Images);
            var (recipe, pipeline) = RunRecipe.Load(runDirectory);
            var images = DetectionImages.Load(files, TrainingData.Read(runDirectory).Categories());
            var detections = TrainingRuns.Detect(checkpoint, recipe, pipeline, images, settings.ScoreThreshold, new TrainingOptions());
            string folder = settings.Out ?? Path.Combine(runDirectory, "detect");
            Directory.CreateDirectory(folder);
            CocoJson.WriteDetections(Path.Combine(folder, DetectionsFile), detections);
            var byImage = detections.ToLookup(d => d.ImageId);
            foreach (var entry in images.Entries)
            {
                string png = Path.Combine(folder, Path.GetFileNameWithoutExtension(entry.FileName) + ".png");
                DetectionDrawing.WritePng(png, entry.Image, byImage[entry.ImageId], images.Categories);
                Console.Out.WriteLine(FormattableString.Invariant($"{png}: {byImage[entry.ImageId].Count()} detections"));
            }
            Console.Error.WriteLine($"{checkpoint}: {images.Count} images, {detections.Count} detections above {settings.ScoreThreshold.ToString(CultureInfo.InvariantCulture)} → {Path.Combine(folder, DetectionsFile)}");
            return PisaApp.Ok;
        }
        catch (Exception ex) when (ex is InvalidDataException or CocoFormatException or TrainingException or IOException or Pisa.Training.Data.DatasetException)
        {
            throw new PisaUserException($"pisa detect: {ex.Message}");
        }
    }
}
