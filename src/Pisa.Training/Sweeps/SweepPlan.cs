using System.Text.Json;
using System.Text.Json.Serialization;
using Pisa.Training.Engine;

namespace Pisa.Training.Sweeps;

/// <summary>One task of a sweep: a variant point trained on one seed, in its own run folder.</summary>
/// <param name="Index">The task's number, 0-based: the Slurm array index that runs it.</param>
/// <param name="Variant">The variant point's name (<c>PisaSweep_IsrK1_CarlBias0</c>), or <c>default</c> for a recipe without variants.</param>
/// <param name="Run">The run folder, relative to the sweep folder: <c>runs/{recipe}/{variant}/seed-{seed}</c>. It holds the task's
/// resolved recipe and data from planning on.</param>
public sealed record SweepTask(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("run")] string Run);

/// <summary>
/// A sweep's <c>sweep.json</c>: what was planned (recipe file, overrides, seeds, variants, data) and the tasks. Written
/// once, last, by <c>pisa sweep plan</c>, after every task's run folder holds its resolved recipe: a folder with a
/// <c>sweep.json</c> is a complete plan.
/// </summary>
/// <param name="Baseline">The variant the report's differences are taken against.</param>
public sealed record SweepPlan(
    [property: JsonPropertyName("recipe")] string Recipe,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("overrides")] IReadOnlyList<string> Overrides,
    [property: JsonPropertyName("seeds")] IReadOnlyList<int> Seeds,
    [property: JsonPropertyName("variants")] IReadOnlyList<string> Variants,
    [property: JsonPropertyName("baseline")] string Baseline,
    [property: JsonPropertyName("data")] TrainingData Data,
    [property: JsonPropertyName("tasks")] IReadOnlyList<SweepTask> Tasks)
{
    public const string FileName = "sweep.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The tasks of a (variant × seed) grid, variant-major, with one run folder each.</summary>
    public static IReadOnlyList<SweepTask> Grid(string recipe, IReadOnlyList<string> variants, IReadOnlyList<int> seeds) =>
        variants.SelectMany(v => seeds.Select(s => (v, s)))
            .Select((p, i) => new SweepTask(i, p.v, p.s, $"runs/{recipe}/{p.v}/seed-{p.s}"))
            .ToList();

    public void Write(string sweepDirectory) => AtomicFile.WriteAllText(Path.Combine(sweepDirectory, FileName), JsonSerializer.Serialize(this, Json));

    /// <exception cref="SweepException">No readable sweep.json in the folder (named).</exception>
    public static SweepPlan Read(string sweepDirectory)
    {
        string path = Path.Combine(sweepDirectory, FileName);
        if (!File.Exists(path)) throw new SweepException($"{path}: not found ({sweepDirectory} is not a sweep folder; make one with 'pisa sweep plan')");
        try
        {
            return JsonSerializer.Deserialize<SweepPlan>(File.ReadAllText(path), Json) ?? throw new JsonException("empty");
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            throw new SweepException($"{path}: not a readable sweep plan: {ex.Message}");
        }
    }

    /// <exception cref="SweepException">No task with that index.</exception>
    public SweepTask Task(int index) => index >= 0 && index < Tasks.Count ? Tasks[index]
        : throw new SweepException($"{Name}: no task {index} (the sweep has tasks 0-{Tasks.Count - 1})");
}

/// <summary>A sweep that cannot go on for a reason the user can act on (no plan, bad task index, Slurm refused).</summary>
public sealed class SweepException(string message) : Exception(message);
