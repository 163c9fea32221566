using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Metrics;
using Pisa.Training.Runs;
using TorchSharp;

namespace Pisa.Training.Engine;

/// <summary>
/// Starting and continuing runs. A run folder holds <c>recipe.resolved.yaml</c> (what the pipeline was generated from)
/// and <c>run.json</c> (the data), so a run can be resumed or evaluated from its folder alone.
/// </summary>
public static class TrainingRuns
{
    public const string ResolvedRecipeFile = "recipe.resolved.yaml";

    /// <summary>A new run of <paramref name="recipe"/> (a recipe or one variant point) under <paramref name="runsRoot"/>.</summary>
    public static TrainingResult Start(Recipe recipe, PipelineInfo pipeline, TrainingData data, DetectionDataset train, DetectionDataset val,
        TrainingOptions options, string runsRoot, Action<Trainer>? observe = null, CancellationToken cancellation = default)
    {
        var run = RunFolder.Create(runsRoot, recipe.Name, recipe.Variant ?? "default", DateTimeOffset.UtcNow);
        Prepare(run, recipe, data);
        return StartIn(run, recipe, pipeline, train, val, options, observe, cancellation);
    }

    /// <summary>Writes what a run folder needs to be resumed or evaluated from alone: its resolved recipe and its data.</summary>
    public static void Prepare(RunFolder run, Recipe recipe, TrainingData data)
    {
        File.WriteAllText(run.In(ResolvedRecipeFile), ResolvedRecipeWriter.Write(recipe));
        data.Write(run.Path);
    }

    /// <summary>
    /// A new run in a folder made beforehand with <see cref="Prepare"/> (a sweep task's, laid out when the sweep was planned).
    /// The run's <c>run.json</c> gets the numerics of the machine that trains it.
    /// </summary>
    public static TrainingResult StartIn(RunFolder run, Recipe recipe, PipelineInfo pipeline, DetectionDataset train, DetectionDataset val,
        TrainingOptions options, Action<Trainer>? observe = null, CancellationToken cancellation = default)
    {
        var trainer = new Trainer(recipe, pipeline, train, val, options);
        (TrainingData.Read(run.Path) with { Numerics = RunNumerics.Of(Platform.TorchPlatform.Configure()) }).Write(run.Path);
        observe?.Invoke(trainer);
        return trainer.Run(run, resume: false, cancellation);
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> from its last checkpoint.</summary>
    /// <param name="recipe">The recipe read from the run's <see cref="ResolvedRecipeFile"/>, and its pipeline.</param>
    public static TrainingResult Resume(string runDirectory, Recipe recipe, PipelineInfo pipeline, DetectionDataset train, DetectionDataset val,
        TrainingOptions options, Action<Trainer>? observe = null, CancellationToken cancellation = default)
    {
        var trainer = new Trainer(recipe, pipeline, train, val, options);
        observe?.Invoke(trainer);
        return trainer.Run(RunFolder.Open(runDirectory), resume: true, cancellation);
    }

    /// <summary>
    /// Re-evaluates a checkpoint of a run on <paramref name="val"/> with the model <c>pisa train</c> built from the
    /// recipe (<see cref="Trainer.ModelFor"/>). Returns the evaluation and the checkpoint's step.
    /// </summary>
    /// <exception cref="TrainingException">No checkpoint, or one that does not fit the model (named).</exception>
    public static (ValidationResult Result, long Step) Evaluate(string checkpoint, Recipe recipe, PipelineInfo pipeline, DetectionDataset val, TrainingOptions options)
    {
        var device = options.ResolveDevice();
        int classes = val.Categories.Count;
        using var runner = DetectorRunner.Create(recipe, pipeline, Trainer.ModelFor(recipe, classes, options.Model));
        long step;
        try
        {
            step = CheckpointWriter.Load(checkpoint, runner.Model);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IOException)
        {
            throw new TrainingException($"{checkpoint}: cannot load into a {recipe.Detector} detector of {classes} classes: {ex.Message}");
        }
        runner.Model.to(device);
        return (Validation.Run(runner, val, Trainer.LoaderFor(recipe, training: false), device), step);
    }

    /// <summary>
    /// A checkpoint's detections of <paramref name="images"/> (<see cref="Inference.DetectionImages"/>): the ones
    /// evaluation makes (<see cref="Validation.Detections"/>), then those scoring above <paramref name="scoreThreshold"/>.
    /// Filtering after NMS keeps exactly what NMS among the boxes above the threshold keeps, since a box is only
    /// suppressed by a better one.
    /// </summary>
    /// <exception cref="TrainingException">A checkpoint that does not fit the model (named).</exception>
    public static List<Pisa.Evaluation.Coco.CocoDetection> Detect(string checkpoint, Recipe recipe, PipelineInfo pipeline, DetectionDataset images,
        double scoreThreshold, TrainingOptions options)
    {
        var device = options.ResolveDevice();
        int classes = images.Categories.Count;
        using var runner = DetectorRunner.Create(recipe, pipeline, Trainer.ModelFor(recipe, classes, options.Model));
        try
        {
            CheckpointWriter.Load(checkpoint, runner.Model);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IOException)
        {
            throw new TrainingException($"{checkpoint}: cannot load into a {recipe.Detector} detector of {classes} classes: {ex.Message}");
        }
        runner.Model.to(device);
        var detections = Validation.Detections(runner, images, Trainer.LoaderFor(recipe, training: false), device, new ScoreIoUCorrelation());
        return detections.Where(d => d.Score > scoreThreshold).ToList();
    }

    /// <summary>
    /// Writes a checkpoint's detector (rebuilt from the recipe with <see cref="Trainer.ModelFor"/>) as a PyTorch or
    /// safetensors state_dict with its architecture JSON beside it (<see cref="ModelExport"/>).
    /// </summary>
    /// <returns>The architecture JSON's path.</returns>
    /// <exception cref="TrainingException">A checkpoint that does not fit the model (named).</exception>
    public static string Export(string checkpoint, Recipe recipe, PipelineInfo pipeline, CategoryMap categories, WeightsFormat format, string weightsPath)
    {
        using var runner = DetectorRunner.Create(recipe, pipeline, Trainer.ModelFor(recipe, categories.Count));
        try
        {
            CheckpointWriter.Load(checkpoint, runner.Model);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IOException)
        {
            throw new TrainingException($"{checkpoint}: cannot load into a {recipe.Detector} detector of {categories.Count} classes: {ex.Message}");
        }
        return ModelExport.Write(runner.Model, recipe, categories, format, weightsPath);
    }

    /// <summary>The run folder and checkpoint a <c>pisa eval</c> argument names: a run folder (its newest checkpoint) or a checkpoint file.</summary>
    /// <exception cref="TrainingException">Neither, or a run without checkpoints.</exception>
    public static (string RunDirectory, string Checkpoint) Locate(string runOrCheckpoint)
    {
        if (File.Exists(runOrCheckpoint))
        {
            string checkpoints = Path.GetDirectoryName(Path.GetFullPath(runOrCheckpoint))!;
            return (Path.GetDirectoryName(checkpoints)!, runOrCheckpoint);
        }
        if (!Directory.Exists(runOrCheckpoint)) throw new TrainingException($"{runOrCheckpoint}: no such run folder or checkpoint");
        var run = RunFolder.Open(runOrCheckpoint);
        string latest = Directory.Exists(run.CheckpointsDirectory) ? new CheckpointWriter(run.CheckpointsDirectory).Latest ?? "" : "";
        if (latest.Length == 0) throw new TrainingException($"{runOrCheckpoint}: the run has no checkpoint yet");
        return (run.Path, latest);
    }
}
