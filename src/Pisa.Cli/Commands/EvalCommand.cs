using System.ComponentModel;
using System.Diagnostics;
using Pisa.Evaluation;
using Pisa.Evaluation.Coco;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary>
/// <c>pisa eval --gt instances.json --detections results.json [--json out.json]</c>: COCO bbox evaluation of a results
/// file, printed in the reference's summary layout. <c>pisa eval &lt;run-or-checkpoint&gt;</c> belongs to the runner.
/// </summary>
public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[RUN]")]
        [Description("A run folder or checkpoint to evaluate (evaluated by the runner).")]
        public string? Run { get; init; }

        [CommandOption("--data <PATH>")]
        [Description("With a run: the data set to evaluate on.")]
        public string? Data { get; init; }

        [CommandOption("--gt <FILE>")]
        [Description("COCO instances file (ground truth).")]
        public string? GroundTruth { get; init; }

        [CommandOption("--detections <FILE>")]
        [Description("COCO results file: a JSON list of {image_id, category_id, bbox, score}.")]
        public string? Detections { get; init; }

        [CommandOption("--json <FILE>")]
        [Description("Also write the numbers as JSON (stats and per_category_ap, as in the eval cases' expected.json).")]
        public string? Json { get; init; }

        /// <summary>Times the evaluator on synthetic data instead of evaluating files (a benchmark, not a feature).</summary>
        [CommandOption("--synthetic-bench", IsHidden = true)]
        public bool SyntheticBench { get; init; }

        /// <summary>Size of the synthetic benchmark: images, categories, detections per image.</summary>
        [CommandOption("--bench-size <IMAGES,CATEGORIES,DETECTIONS_PER_IMAGE>", IsHidden = true)]
        public string BenchSize { get; init; } = "5000,80,100";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.SyntheticBench) return RunSyntheticBench(settings.BenchSize);
        bool filesGiven = settings.GroundTruth is not null || settings.Detections is not null;
        if (settings.Run is not null)
        {
            if (filesGiven) throw new PisaUserException("pisa eval: give either a run folder or checkpoint, or --gt and --detections, not both.");
            return EvaluateRun(settings.Run, settings.Data, settings.Json);
        }
        if (settings.Data is not null)
            throw new PisaUserException("pisa eval: --data applies to a run or checkpoint; a results file is evaluated against --gt.");
        if (settings.GroundTruth is null || settings.Detections is null)
            throw new PisaUserException("pisa eval: evaluating a results file needs both --gt FILE and --detections FILE (see 'pisa eval --help').");
        return EvaluateFiles(settings.GroundTruth, settings.Detections, settings.Json);
    }

    /// <summary>A run's newest checkpoint (or the given one) on the run's val split, or on <paramref name="data"/>.</summary>
    private static int EvaluateRun(string runOrCheckpoint, string? data, string? jsonPath)
    {
        try
        {
            var (runDirectory, checkpoint) = Pisa.Training.Engine.TrainingRuns.Locate(runOrCheckpoint);
            var (recipe, pipeline) = RunRecipe.Load(runDirectory);
            var source = data is null ? Pisa.Training.Engine.TrainingData.Read(runDirectory)
                : Pisa.Training.Engine.TrainingData.Builtin() with { Data = data };
            var (_, val) = source.Load();
            var (result, step) = Pisa.Training.Engine.TrainingRuns.Evaluate(checkpoint, recipe, pipeline, val, new Pisa.Training.Engine.TrainingOptions());
            Console.Out.Write(CocoReport.Summary(result.Evaluation, val.GroundTruth.Categories));
            if (jsonPath is not null) WriteJson(jsonPath, result.Evaluation);
            Console.Error.WriteLine($"{checkpoint} (step {step}) on {val.Name}: {val.Count} images, {result.Detections.Count} detections.");
            return PisaApp.Ok;
        }
        catch (Exception ex) when (ex is Pisa.Training.Data.DatasetException or CocoFormatException or Pisa.Training.Engine.TrainingException)
        {
            throw new PisaUserException(ex.Message);
        }
    }

    private static int EvaluateFiles(string groundTruthPath, string detectionsPath, string? jsonPath)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var groundTruth = CocoJson.ReadDataset(groundTruthPath);
            var detections = CocoJson.ReadDetections(detectionsPath);
            var read = clock.Elapsed;
            var evaluation = CocoEvaluator.Evaluate(groundTruth, detections, groundTruthPath, detectionsPath);
            var evaluated = clock.Elapsed - read;

            Console.Out.Write(CocoReport.Summary(evaluation, groundTruth.Categories));
            if (jsonPath is not null) WriteJson(jsonPath, evaluation);
            Console.Error.WriteLine($"{groundTruth.Images.Count} images, {groundTruth.Categories.Count} categories, {detections.Count} detections: " +
                $"read in {read.TotalMilliseconds:0} ms, evaluated in {evaluated.TotalMilliseconds:0} ms.");
            return PisaApp.Ok;
        }
        catch (CocoFormatException ex)
        {
            throw new PisaUserException($"error: {ex.Message}");
        }
    }

    private static void WriteJson(string path, CocoEvaluation evaluation)
    {
        try
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            File.WriteAllText(path, CocoReport.Json(evaluation));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PisaUserException($"error: {path}: cannot write the JSON output: {ex.Message}");
        }
    }

    /// <summary>Generates the synthetic data, then times one evaluation of it (after a warm-up on a tenth of it).</summary>
    private static int RunSyntheticBench(string size)
    {
        int[] parts = size.Split(',').Select(p => int.TryParse(p, out int n) && n > 0 ? n : -1).ToArray();
        if (parts is not [> 0 and var images, > 0 and var categories, > 0 and var perImage])
            throw new PisaUserException($"pisa eval: --bench-size must be IMAGES,CATEGORIES,DETECTIONS_PER_IMAGE (positive integers), not '{size}'.");

        var warmUpTruth = SyntheticCoco.GroundTruth(Math.Max(1, images / 10), categories);
        CocoEvaluator.Evaluate(warmUpTruth, SyntheticCoco.Detections(warmUpTruth, perImage));

        var clock = Stopwatch.StartNew();
        var groundTruth = SyntheticCoco.GroundTruth(images, categories);
        var detections = SyntheticCoco.Detections(groundTruth, perImage);
        var generated = clock.Elapsed;
        // CPU time beside wall time: the machines this runs on are shared, and CPU time is what contention distorts least.
        int fullCollections = GC.CollectionCount(2);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        clock.Restart();
        var evaluation = CocoEvaluator.Evaluate(groundTruth, detections);
        var evaluated = clock.Elapsed;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        fullCollections = GC.CollectionCount(2) - fullCollections;

        Console.Out.Write(CocoReport.StatLines(evaluation));
        Console.Out.WriteLine($"synthetic: {images} images, {categories} categories, {groundTruth.Annotations.Count} objects, {detections.Count} detections " +
            $"({perImage} per image); generated in {generated.TotalSeconds:0.00} s, evaluated in {evaluated.TotalSeconds:0.00} s " +
            $"(CPU {cpu.TotalSeconds:0.00} s, {fullCollections} full GCs) " +
            $"(peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MB).");
        return PisaApp.Ok;
    }
}
