using System.Globalization;
using System.Text;
using Pisa.Training.Runs;
using Spectre.Console;

namespace Pisa.Cli.Commands;

/// <summary>The table of runs side by side, shared by <c>pisa compare</c> and <c>pisa train --variant all</c>.</summary>
internal static class RunComparison
{
    public static readonly string[] Columns = ["recipe", "variant", "AP", "AP50", "AP75", "APs", "APm", "score_iou_pearson", "wall_s", "finite_losses"];

    /// <summary>A run's cells: metrics to 4 decimals, wall time in whole seconds, <c>n/a</c> for what the run did not log.</summary>
    public static string[] Cells(RunSummary run)
    {
        string Metric(string name) => run.Validation?.GetValueOrDefault(name, double.NaN) is double v && double.IsFinite(v)
            ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";
        return
        [
            run.Recipe, run.Variant, Metric("AP"), Metric("AP50"), Metric("AP75"), Metric("APs"), Metric("APm"), Metric("score_iou_pearson"),
            run.WallSeconds is double wall ? wall.ToString("0", CultureInfo.InvariantCulture) : "n/a",
            run.FiniteLosses ? "yes" : "no",
        ];
    }

    /// <summary>The table on standard output.</summary>
    public static void Print(IReadOnlyList<RunSummary> runs)
    {
        var table = new Table().AddColumns(Columns);
        foreach (var run in runs) table.AddRow(Cells(run).Select(Markup.Escape).ToArray());
        // A console on the current Console.Out (as PisaApp's), so the table follows redirection.
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
        });
        if (Console.IsOutputRedirected) console.Profile.Width = 240; // a file or pipe: one line per row, not the default 80 columns
        console.Write(table);
    }

    /// <summary>Writes <c>{directory}/{name}.md</c> and <c>{directory}/{name}.csv</c>; returns their paths.</summary>
    public static (string Markdown, string Csv) Write(IReadOnlyList<RunSummary> runs, string directory, string name)
    {
        var rows = runs.Select(Cells).ToList();
        var markdown = new StringBuilder()
            .Append("| ").Append(string.Join(" | ", Columns)).Append(" |\n")
            .Append('|').Append(string.Concat(Columns.Select(_ => "---|"))).Append('\n');
        foreach (var cells in rows) markdown.Append("| ").Append(string.Join(" | ", cells.Select(c => c.Replace("|", "\\|")))).Append(" |\n");
        var csv = new StringBuilder(string.Join(",", Columns)).Append('\n');
        foreach (var cells in rows) csv.Append(string.Join(",", cells.Select(Quote))).Append('\n');

        Directory.CreateDirectory(directory);
        var paths = (Path.Combine(directory, name + ".md"), Path.Combine(directory, name + ".csv"));
        File.WriteAllText(paths.Item1, markdown.ToString());
        File.WriteAllText(paths.Item2, csv.ToString());
        return paths;
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;
}
