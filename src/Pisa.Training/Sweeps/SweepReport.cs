using System.Globalization;
using System.Text;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using ScottPlot;

namespace Pisa.Training.Sweeps;

/// <summary>Mean, sample standard deviation (n − 1; NaN below 2 values) and count of one metric over seeds.</summary>
public sealed record Stats(int N, double Mean, double Std)
{
    public static Stats Of(IReadOnlyList<double> values)
    {
        int n = values.Count;
        double mean = n == 0 ? double.NaN : values.Average();
        double std = n < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        return new Stats(n, mean, std);
    }

    /// <summary>This mean minus <paramref name="baseline"/>'s, and the standard error of that difference,
    /// √(s²/n + s²_b/n_b) (NaN when either side has fewer than 2 values).</summary>
    public Stats Minus(Stats baseline) =>
        new(Math.Min(N, baseline.N), Mean - baseline.Mean, Math.Sqrt(Std * Std / N + baseline.Std * baseline.Std / baseline.N));
}

/// <summary>How one task ended, as the report reads it: its phase and, when done, its last evaluation and wall time.</summary>
public sealed record TaskOutcome(SweepTask Task, TaskState State, IReadOnlyDictionary<string, double>? Metrics);

/// <summary>One variant over its seeds.</summary>
/// <param name="Missing">Seeds that did not finish, each with its phase (<c>2: failed</c>): a variant with any is marked, not averaged as if whole.</param>
/// <param name="Metrics">Per metric, over the seeds that finished.</param>
/// <param name="Difference">Per metric, the difference to the baseline; null for the baseline itself and when either variant is incomplete.</param>
public sealed record VariantSummary(string Variant, int Seeds, IReadOnlyList<string> Missing, IReadOnlyDictionary<string, Stats> Metrics,
    IReadOnlyDictionary<string, Stats>? Difference)
{
    public bool Complete => Missing.Count == 0;

    /// <summary>"3/3 seeds", or the marking of an incomplete variant: "2/3 seeds; seed 1 failed".</summary>
    public string Status => Complete ? $"{Seeds}/{Seeds} seeds" : $"{Seeds - Missing.Count}/{Seeds} seeds; INCOMPLETE: seed {string.Join(", seed ", Missing)}";
}

/// <summary>
/// <c>pisa sweep report</c>: per variant, over seeds, mean ± std and n of AP, AP50, AP75, APs, APm,
/// <c>score_iou_pearson</c> and wall time, and each metric's difference to the baseline variant with its standard
/// error; written as <c>report.md</c>, <c>report.csv</c> and <c>report.png</c> (AP per variant with its spread).
/// </summary>
public static class SweepReport
{
    public static readonly string[] MetricNames = ["AP", "AP50", "AP75", "APs", "APm", "score_iou_pearson", RunLog.WallName];

    /// <summary>Each task's phase and, for finished ones, the last evaluation and wall time read from its run folder.</summary>
    public static IReadOnlyList<TaskOutcome> Read(SweepFolder sweep, SweepPlan plan) => plan.Tasks.Select(task =>
    {
        string run = sweep.RunDirectory(task);
        var state = TaskState.Read(run);
        if (state.Phase != TaskPhase.Done) return new TaskOutcome(task, state, null);
        try
        {
            var summary = RunSummary.Read(run);
            var metrics = new Dictionary<string, double>(summary.Validation ?? new Dictionary<string, double>());
            if (summary.WallSeconds is double wall) metrics[RunLog.WallName] = wall;
            return new TaskOutcome(task, state, metrics);
        }
        catch (TrainingException ex)
        {
            return new TaskOutcome(task, state with { Phase = TaskPhase.Failed, Message = ex.Message }, null);
        }
    }).ToList();

    /// <summary>The variants in plan order, each over its seeds, with differences to <paramref name="baseline"/>.</summary>
    public static IReadOnlyList<VariantSummary> Summarise(IReadOnlyList<TaskOutcome> outcomes, string baseline)
    {
        var rows = outcomes.GroupBy(o => o.Task.Variant).Select(g =>
        {
            var missing = g.Where(o => o.State.Phase != TaskPhase.Done).Select(o => $"{o.Task.Seed} {o.State.Phase.ToString().ToLowerInvariant()}").ToList();
            var done = g.Where(o => o.State.Phase == TaskPhase.Done && o.Metrics is not null).Select(o => o.Metrics!).ToList();
            var metrics = MetricNames.ToDictionary(m => m, m => Stats.Of(done.Where(d => d.ContainsKey(m) && double.IsFinite(d[m])).Select(d => d[m]).ToList()));
            return new VariantSummary(g.Key, g.Count(), missing, metrics, null);
        }).ToList();
        var reference = rows.FirstOrDefault(r => r.Variant == baseline);
        if (reference is null || !reference.Complete) return rows;
        return rows.Select(r => r.Variant == baseline || !r.Complete ? r
            : r with { Difference = MetricNames.ToDictionary(m => m, m => r.Metrics[m].Minus(reference.Metrics[m])) }).ToList();
    }

    /// <summary>Writes report.md, report.csv and report.png into the sweep folder; returns the Markdown.</summary>
    public static string Write(SweepFolder sweep, SweepPlan plan, IReadOnlyList<TaskOutcome> outcomes, string baseline)
    {
        var rows = Summarise(outcomes, baseline);
        string markdown = Markdown(plan, rows, outcomes, baseline);
        AtomicFile.WriteAllText(sweep.In("report.md"), markdown);
        AtomicFile.WriteAllText(sweep.In("report.csv"), Csv(rows));
        Chart(sweep.In("report.png"), plan, rows);
        return markdown;
    }

    /// <summary>The summary table alone (what the console shows).</summary>
    public static string Table(IReadOnlyList<VariantSummary> rows)
    {
        var text = new StringBuilder();
        AppendRow(text, ["variant", "seeds", .. MetricNames]);
        AppendRow(text, ["---", "---", .. MetricNames.Select(_ => "---")]);
        foreach (var row in rows) AppendRow(text, [row.Variant, row.Status, .. MetricNames.Select(m => Cell(row.Metrics[m], m))]);
        return text.ToString();
    }

    private static string Markdown(SweepPlan plan, IReadOnlyList<VariantSummary> rows, IReadOnlyList<TaskOutcome> outcomes, string baseline)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Sweep {plan.Name}: {plan.Variants.Count} variant(s) x {plan.Seeds.Count} seed(s)\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Recipe `{plan.Recipe}`, seeds {string.Join(", ", plan.Seeds)}, data `{plan.Data.Data}`");
        if (plan.Overrides.Count > 0) text.Append(", overrides ").Append(string.Join(" ", plan.Overrides.Select(o => $"`{o}`")));
        text.Append(".\n\nEach cell: mean ± sample standard deviation over the seeds that finished (n). `wall_s` is each run's wall time in seconds. ");
        text.Append("A variant with a seed that did not finish is marked INCOMPLETE and left out of the differences.\n\n");
        text.Append(Table(rows));

        text.Append(CultureInfo.InvariantCulture, $"\n## Difference to the baseline, {baseline}\n\n");
        text.Append("mean(variant) − mean(baseline) ± the standard error of that difference, √(s²/n + s_b²/n_b).\n\n");
        if (rows.FirstOrDefault(r => r.Variant == baseline) is not { Complete: true })
            text.Append(CultureInfo.InvariantCulture, $"No differences: the baseline {baseline} is {(rows.Any(r => r.Variant == baseline) ? "incomplete" : "not in the sweep")}.\n");
        else
        {
            AppendRow(text, ["variant", .. MetricNames]);
            AppendRow(text, ["---", .. MetricNames.Select(_ => "---")]);
            foreach (var row in rows.Where(r => r.Variant != baseline))
                AppendRow(text, [row.Variant, .. MetricNames.Select(m => row.Difference is { } d ? Signed(d[m], m) : "n/a (incomplete)")]);
        }

        text.Append("\n## Tasks\n\n");
        AppendRow(text, ["task", "variant", "seed", "state", "attempts", "AP", "wall_s", "note"]);
        AppendRow(text, ["---", "---", "---", "---", "---", "---", "---", "---"]);
        foreach (var o in outcomes)
            AppendRow(text,
            [
                o.Task.Index.ToString(CultureInfo.InvariantCulture), o.Task.Variant, o.Task.Seed.ToString(CultureInfo.InvariantCulture),
                o.State.Phase.ToString().ToLowerInvariant(), o.State.Attempts.ToString(CultureInfo.InvariantCulture),
                Number(o.Metrics?.GetValueOrDefault("AP", double.NaN) ?? double.NaN, "AP"),
                Number(o.Metrics?.GetValueOrDefault(RunLog.WallName, double.NaN) ?? double.NaN, RunLog.WallName),
                o.State.Phase == TaskPhase.Done ? "" : FirstLine(o.State.Message),
            ]);
        return text.ToString();
    }

    private static string Csv(IReadOnlyList<VariantSummary> rows)
    {
        var text = new StringBuilder("variant,complete,seeds,missing");
        foreach (string m in MetricNames) text.Append(CultureInfo.InvariantCulture, $",{m}_mean,{m}_std,{m}_n,{m}_diff,{m}_diff_se");
        text.Append('\n');
        foreach (var row in rows)
        {
            text.Append(Quote(row.Variant)).Append(',').Append(row.Complete ? "yes" : "no").Append(',')
                .Append(row.Seeds.ToString(CultureInfo.InvariantCulture)).Append(',').Append(Quote(string.Join("; ", row.Missing)));
            foreach (string m in MetricNames)
            {
                var s = row.Metrics[m];
                var d = row.Difference?[m];
                text.Append(',').Append(Raw(s.Mean)).Append(',').Append(Raw(s.Std)).Append(',').Append(s.N.ToString(CultureInfo.InvariantCulture))
                    .Append(',').Append(Raw(d?.Mean ?? double.NaN)).Append(',').Append(Raw(d?.Std ?? double.NaN));
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>AP per variant: a bar at the mean, an error bar of one standard deviation, n and the marking in the label.</summary>
    private static void Chart(string path, SweepPlan plan, IReadOnlyList<VariantSummary> rows)
    {
        var plot = new Plot();
        var bars = rows.Select((r, i) => new Bar
        {
            Position = i,
            Value = double.IsFinite(r.Metrics["AP"].Mean) ? r.Metrics["AP"].Mean : 0,
            Error = double.IsFinite(r.Metrics["AP"].Std) ? r.Metrics["AP"].Std : 0,
            FillColor = r.Complete ? Colors.SteelBlue : Colors.IndianRed,
        }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            rows.Select((_, i) => (double)i).ToArray(),
            rows.Select(r => $"{r.Variant}\nn={r.Metrics["AP"].N}{(r.Complete ? "" : " INCOMPLETE")}").ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title($"{plan.Name}: val AP over seeds (mean ± std)");
        plot.YLabel("AP");
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temp = Path.Combine(directory, $".report.{Guid.NewGuid():N}.png");
        plot.SavePng(temp, Math.Max(800, 220 * rows.Count), 500);
        File.Move(temp, path, overwrite: true);
    }

    private static string Cell(Stats s, string metric) => s.N == 0 ? "n/a"
        : s.N == 1 ? $"{Number(s.Mean, metric)} (n=1)"
        : $"{Number(s.Mean, metric)} ± {Number(s.Std, metric)} (n={s.N})";

    private static string Signed(Stats d, string metric) => !double.IsFinite(d.Mean) ? "n/a"
        : $"{(d.Mean >= 0 ? "+" : "")}{Number(d.Mean, metric)}{(double.IsFinite(d.Std) ? $" ± {Number(d.Std, metric)}" : " (n=1)")}";

    private static string Number(double value, string metric) => !double.IsFinite(value) ? "n/a"
        : value.ToString(metric == RunLog.WallName ? "0" : "0.0000", CultureInfo.InvariantCulture);

    private static string Raw(double value) => double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "";

    private static string FirstLine(string? message) => (message ?? "").Split('\n')[0].Replace("|", "\\|");

    private static void AppendRow(StringBuilder text, IEnumerable<string> cells) =>
        text.Append("| ").Append(string.Join(" | ", cells.Select(c => c.Replace("|", "\\|")))).Append(" |\n");

    private static string Quote(string field) => field.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;
}
