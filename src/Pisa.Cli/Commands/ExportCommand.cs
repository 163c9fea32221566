using System.ComponentModel;
using Pisa.Evaluation.Coco;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary>
/// <c>pisa export RUN|CHECKPOINT --format pytorch|safetensors [--out FILE]</c>: the trained detector's state_dict for
/// PyTorch, with a JSON of its architecture (backbone, classes, strides, anchors) beside it.
/// </summary>
public sealed class ExportCommand : Command<ExportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("A run folder (its newest checkpoint) or a checkpoint file.")]
        public string Run { get; init; } = "";

        [CommandOption("--format <FORMAT>")]
        [Description("pytorch (torch.load) or safetensors.")]
        public string Format { get; init; } = "pytorch";

        [CommandOption("--out <FILE>")]
        [Description("The weights file (default: RUN/export/model.pth or model.safetensors); the architecture JSON goes beside it.")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var format = ModelExport.ParseFormat(settings.Format);
            var (runDirectory, checkpoint) = TrainingRuns.Locate(settings.Run);
            var (recipe, pipeline) = RunRecipe.Load(runDirectory);
            var (_, val) = TrainingData.Read(runDirectory).Load();
            string weights = settings.Out ?? Path.Combine(runDirectory, "export", format == WeightsFormat.Safetensors ? "model.safetensors" : "model.pth");
            string architecture = TrainingRuns.Export(checkpoint, recipe, pipeline, val.Categories, format, weights);
            Console.Out.WriteLine(weights);
            Console.Out.WriteLine(architecture);
            Console.Error.WriteLine($"{checkpoint}: exported for PyTorch ({recipe.Name}, {val.Categories.Count} classes).");
            return PisaApp.Ok;
        }
        catch (ArgumentException ex)
        {
            throw new PisaUserException($"pisa export: {ex.Message}");
        }
        catch (Exception ex) when (ex is Pisa.Training.Data.DatasetException or CocoFormatException or TrainingException or IOException)
        {
            throw new PisaUserException(ex.Message);
        }
    }
}
