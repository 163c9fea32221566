using System.ComponentModel;
using System.Globalization;
using Pisa.Training.Sweeps;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Sweep;

/// <summary>
/// <c>pisa sweep status DIR</c>: per task, pending, running, done, failed (with the error) or preempted, read from the
/// sweep folder, plus Slurm's view (<c>squeue</c>, and <c>sacct</c> where accounting is on) of the submitted arrays.
/// </summary>
public sealed class SweepStatusCommand : Command<SweepStatusCommand.Settings>
{
    public sealed class Settings : SweepFolderSettings;

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var sweep = new SweepFolder(settings.Sweep);
        SweepPlan plan;
        try
        {
            plan = sweep.ReadPlan();
        }
        catch (SweepException ex)
        {
            throw new PisaUserException(ex.Message);
        }
        var slurm = SlurmClient.States(SlurmSubmission.ReadAll(sweep).Select(s => s.ArrayJob).ToList());
        var table = new Table().AddColumns("task", "variant", "seed", "state", "starts", "step", "slurm", "note");
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var task in plan.Tasks)
        {
            var recorded = TaskState.Read(sweep.RunDirectory(task));
            var (state, note) = Describe(sweep, task, recorded, slurm.GetValueOrDefault(task.Index));
            counts[state] = counts.GetValueOrDefault(state) + 1;
            table.AddRow(new[]
            {
                task.Index.ToString(CultureInfo.InvariantCulture), task.Variant, task.Seed.ToString(CultureInfo.InvariantCulture), state,
                recorded.Attempts.ToString(CultureInfo.InvariantCulture), recorded.Step?.ToString(CultureInfo.InvariantCulture) ?? "",
                slurm.GetValueOrDefault(task.Index) ?? "", note,
            }.Select(Markup.Escape).ToArray());
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
        });
        if (Console.IsOutputRedirected) console.Profile.Width = 240;
        console.Write(table);
        Console.Out.WriteLine($"{plan.Name}: {plan.Tasks.Count} tasks: {string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}"))}");
        return PisaApp.Ok;
    }

    /// <summary>A task's state word and note, from its task.json, its lock, its log and Slurm's state of its array task.</summary>
    private static (string State, string Note) Describe(SweepFolder sweep, SweepTask task, TaskState state, string? slurm)
    {
        string run = sweep.RunDirectory(task);
        switch (state.Phase)
        {
            case TaskPhase.Running when slurm is "RUNNING" || TaskLock.IsHeld(run):
                return ("running", state.Runner ?? "");
            case TaskPhase.Running:
                return ("failed", $"killed without an exit (last run by {state.Runner}); starting it again resumes from its last checkpoint");
            case TaskPhase.Failed:
                return ("failed", FirstLine(state.Message) is { Length: > 0 } message ? message : LastError(sweep.Log(task)));
            case TaskPhase.Preempted:
                return ("preempted", (slurm is "PENDING" ? "requeued; " : "") + state.Message);
            case TaskPhase.Done:
                return ("done", "");
            default:
                return ("pending", slurm is "PENDING" ? "queued" : "");
        }
    }

    private static string FirstLine(string? text) => (text ?? "").Split('\n')[0].Trim();

    /// <summary>The log's last line that reads as an error, or its last line.</summary>
    private static string LastError(string log)
    {
        if (!File.Exists(log)) return "";
        var lines = File.ReadLines(log).Where(l => l.Trim().Length > 0).ToList();
        return lines.LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault() ?? "";
    }
}
