using System.Globalization;

namespace Pisa.Training.Runs;

/// <summary>
/// The folder of one training run: <c>{runsRoot}/{recipe}/{variant}/{yyyyMMdd-HHmmss}/</c> (UTC). Two runs started in
/// the same second get <c>-2</c>, <c>-3</c>… suffixes, so a run never writes into an earlier run's folder
/// (within one process; two processes starting the same recipe in the same second could still collide).
/// </summary>
public sealed class RunFolder
{
    private RunFolder(string path, string recipe, string variant) => (Path, Recipe, Variant) = (path, recipe, variant);

    public string Path { get; }
    public string Recipe { get; }
    public string Variant { get; }

    public string CheckpointsDirectory => In("checkpoints");
    public string PlotsDirectory => In("plots");
    public string MetricsJsonl => In("metrics.jsonl");
    public string MetricsCsv => In("metrics.csv");

    /// <summary>A file of the run (not created).</summary>
    public string In(string fileName) => System.IO.Path.Combine(Path, fileName);

    /// <summary>Creates the run's folder (and its checkpoints and plots folders).</summary>
    /// <exception cref="ArgumentException">The recipe or variant name is not a single, plain folder name.</exception>
    public static RunFolder Create(string runsRoot, string recipe, string variant, DateTimeOffset startedAt)
    {
        RequireSegment(recipe, "recipe");
        RequireSegment(variant, "variant");
        string parent = System.IO.Path.Combine(runsRoot, recipe, variant);
        Directory.CreateDirectory(parent);
        string stamp = startedAt.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        for (int attempt = 1; ; attempt++)
        {
            string path = System.IO.Path.Combine(parent, attempt == 1 ? stamp : $"{stamp}-{attempt}");
            if (Directory.Exists(path)) continue;
            Directory.CreateDirectory(path);
            var run = new RunFolder(path, recipe, variant);
            Directory.CreateDirectory(run.CheckpointsDirectory);
            Directory.CreateDirectory(run.PlotsDirectory);
            return run;
        }
    }

    /// <summary>An existing run folder (to resume or evaluate it); recipe and variant are read from its path.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static RunFolder Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path.TrimEnd('/', '\\'));
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"{path}: no such run folder");
        string variantDir = System.IO.Path.GetDirectoryName(full) ?? full;
        string recipeDir = System.IO.Path.GetDirectoryName(variantDir) ?? variantDir;
        return new RunFolder(full, System.IO.Path.GetFileName(recipeDir), System.IO.Path.GetFileName(variantDir));
    }

    private static void RequireSegment(string name, string what)
    {
        if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.IndexOfAny(['/', '\\', ':']) >= 0
            || name.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"the {what} name '{name}' cannot be a folder name (no path separators, '.' or '..')");
    }
}
