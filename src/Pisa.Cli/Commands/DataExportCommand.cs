using System.ComponentModel;
using Pisa.Training.Data.Shapes;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary><c>pisa data export builtin:shapes DIR [--split train|val|all]</c>: writes a COCO-format copy of a data set.</summary>
public sealed class DataExportCommand : Command<DataExportCommand.Settings>
{
    /// <summary>Settings of <c>pisa data export</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SOURCE>")]
        [Description("The data set to write; only builtin:shapes for now.")]
        public string Source { get; init; } = "";

        [CommandArgument(1, "<DIR>")]
        [Description("Output folder: annotations/instances_{split}.json and {split}/*.png are written there.")]
        public string Directory { get; init; } = "";

        [CommandOption("--split <SPLIT>")]
        [Description("train, val or all (default all).")]
        public string Split { get; init; } = "all";

        [CommandOption("--seed <SEED>")]
        [Description("Generator seed (default 0).")]
        public int Seed { get; init; }

        [CommandOption("--train-count <N>")]
        [Description("Images in the train split (default 2000).")]
        public int? TrainCount { get; init; }

        [CommandOption("--val-count <N>")]
        [Description("Images in the val split (default 200).")]
        public int? ValCount { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Source != ShapesOptions.SourceName)
            throw new PisaUserException($"pisa data export: unknown data set '{settings.Source}' (known: {ShapesOptions.SourceName})");
        ShapesSplit[] splits = settings.Split.ToLowerInvariant() switch
        {
            "train" => [ShapesSplit.Train],
            "val" => [ShapesSplit.Val],
            "all" => [ShapesSplit.Train, ShapesSplit.Val],
            _ => throw new PisaUserException($"pisa data export: --split must be train, val or all, not '{settings.Split}'"),
        };
        var defaults = new ShapesOptions();
        var options = defaults with
        {
            Seed = settings.Seed,
            TrainCount = settings.TrainCount ?? defaults.TrainCount,
            ValCount = settings.ValCount ?? defaults.ValCount,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new PisaUserException($"pisa data export: {ex.Message}");
        }

        foreach (var split in splits)
        {
            string instances;
            try
            {
                instances = ShapesDataset.Export(settings.Directory, options, split);
            }
            catch (Exception ex) when (FileSystemError(ex) is Exception io)
            {
                throw new PisaUserException($"pisa data export: cannot write to {settings.Directory}: {io.Message}");
            }
            Console.WriteLine($"{ShapesDataset.SplitName(split)}: {options.CountOf(split)} images → {instances}");
        }
        return PisaApp.Ok;
    }

    /// <summary>The I/O failure behind an exception (images are written in parallel, so it may come wrapped), or null.</summary>
    private static Exception? FileSystemError(Exception ex) => ex switch
    {
        IOException or UnauthorizedAccessException => ex,
        AggregateException aggregate => aggregate.Flatten().InnerExceptions.FirstOrDefault(e => e is IOException or UnauthorizedAccessException),
        _ => null,
    };
}
