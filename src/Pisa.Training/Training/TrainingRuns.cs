using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Runs;

namespace Pisa.Training.Training;

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
        var trainer = new Trainer(recipe, pipeline, train, val, options);
        var run = RunFolder.Create(runsRoot, recipe.Name, recipe.Variant ?? "default", DateTimeOffset.UtcNow);
        File.WriteAllText(run.In(ResolvedRecipeFile), ResolvedRecipeWriter.Write(recipe));
        data.Write(run.Path);
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
}
