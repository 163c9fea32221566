using Pisa.Recipes;
using Pisa.Training.Engine;

namespace Pisa.Training.Runs;

/// <summary>How a run went, read back from its folder: what <c>pisa compare</c> and the variant sweep tabulate.</summary>
/// <param name="Recipe">The name in the run's resolved recipe.</param>
/// <param name="Variant">The variant point, or <c>default</c> (the run folder's variant segment, named after the point).</param>
/// <param name="Validation">The last evaluation's metrics by name (<see cref="ValidationResult.Metrics"/>), or null when the run never evaluated.</param>
/// <param name="WallSeconds">The run's wall time at its last record, or null when its log predates <see cref="RunLog.WallName"/>.</param>
/// <param name="FiniteLosses">False when any logged loss window was NaN or infinite.</param>
public sealed record RunSummary(string RunDirectory, string Recipe, string Variant, IReadOnlyDictionary<string, double>? Validation, double? WallSeconds, bool FiniteLosses)
{
    /// <exception cref="TrainingException">Not a run folder, or a run folder whose recipe or metrics cannot be read (named).</exception>
    public static RunSummary Read(string runDirectory)
    {
        if (!Directory.Exists(runDirectory)) throw new TrainingException($"{runDirectory}: no such run folder");
        var run = RunFolder.Open(runDirectory);
        string recipePath = run.In(TrainingRuns.ResolvedRecipeFile);
        if (!File.Exists(recipePath)) throw new TrainingException($"{recipePath}: not found ({runDirectory} is not a run folder)");
        if (!File.Exists(run.MetricsJsonl)) throw new TrainingException($"{run.MetricsJsonl}: not found (the run logged nothing)");
        var loaded = new RecipeLoader().LoadFile(recipePath);
        if (loaded.HasErrors) throw new TrainingException(string.Join(Environment.NewLine, loaded.Diagnostics));

        IReadOnlyList<MetricsRecord> records;
        try
        {
            records = MetricsLog.Read(run.MetricsJsonl);
        }
        catch (InvalidDataException ex)
        {
            throw new TrainingException(ex.Message);
        }
        var last = records.LastOrDefault(RunLog.IsEvaluation);
        double? wall = records.LastOrDefault(r => r.Values.ContainsKey(RunLog.WallName))?.Values[RunLog.WallName];
        // MetricsLog writes a non-finite value as null and reads it back as NaN.
        bool finite = records.Where(r => !RunLog.IsEvaluation(r)).All(r => r.Values.Values.All(double.IsFinite));
        return new RunSummary(run.Path, loaded.Recipe!.Name, run.Variant, last?.Values, wall, finite);
    }
}
