using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Pisa.Training.Sweeps;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Sweep;

/// <summary>
/// <c>pisa sweep run DIR --local [--jobs N] [--threads T]</c>: runs the sweep's unfinished tasks on this machine, N at
/// a time, each as a child process (<c>pisa sweep task</c>) with T threads and its output appended to
/// <c>logs/task-{i}.log</c>; then writes the report. Run it again to finish what failed or was stopped.
/// </summary>
public sealed class SweepRunCommand : Command<SweepRunCommand.Settings>
{
    public sealed class Settings : SweepFolderSettings
    {
        [CommandOption("--local")]
        [Description("Run the tasks as child processes on this machine (the one backend of run; Slurm: pisa sweep submit).")]
        public bool Local { get; init; }

        [CommandOption("--jobs <N>")]
        [Description("Tasks at a time (default: cores / threads per task).")]
        public int? Jobs { get; init; }

        [CommandOption("--threads <T>")]
        [Description("Threads per task (default 1).")]
        public int Threads { get; init; } = 1;

        [CommandOption("--device <DEVICE>")]
        [Description("cpu or cuda, for every task (default: cuda when available).")]
        public string? Device { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!settings.Local) throw new PisaUserException("pisa sweep run: give --local (to run on a Slurm cluster: pisa sweep submit DIR --slurm)");
        if (settings.Threads < 1) throw new PisaUserException("--threads must be at least 1");
        int jobs = settings.Jobs ?? Math.Max(1, Environment.ProcessorCount / settings.Threads);
        if (jobs < 1) throw new PisaUserException("--jobs must be at least 1");
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
        var todo = plan.Tasks.Where(t => TaskState.Read(sweep.RunDirectory(t)).Phase != TaskPhase.Done).ToList();
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{plan.Name}: {plan.Tasks.Count - todo.Count} of {plan.Tasks.Count} tasks done; running {todo.Count}, {jobs} at a time, {settings.Threads} thread(s) each"));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            // The children got the same Ctrl-C and checkpoint; start no more tasks.
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        var output = new object();
        try
        {
            using var slots = new SemaphoreSlim(jobs);
            var running = todo.Select(async task =>
            {
                await slots.WaitAsync(CancellationToken.None);
                try
                {
                    if (stop.IsCancellationRequested) return;
                    int code = await RunChild(sweep, task, settings);
                    var state = TaskState.Read(sweep.RunDirectory(task));
                    lock (output)
                        Console.Out.WriteLine($"task {task.Index} ({task.Variant} seed {task.Seed}): {state.Phase.ToString().ToLowerInvariant()} (exit code {code})" +
                            (state.Phase == TaskPhase.Failed ? $": {state.Message?.Split('\n')[0]}" : ""));
                }
                finally
                {
                    slots.Release();
                }
            }).ToArray();
            Task.WaitAll(running);
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }

        var outcomes = SweepReport.Read(sweep, plan);
        SweepReport.Write(sweep, plan, outcomes, plan.Baseline);
        Console.Out.Write(SweepReport.Table(SweepReport.Summarise(outcomes, plan.Baseline)));
        Console.Out.WriteLine($"report: {sweep.In("report.md")}");
        return outcomes.All(o => o.State.Phase == TaskPhase.Done) ? PisaApp.Ok : PisaApp.UserError;
    }

    /// <summary>One task as a child process, its output appended to the task's log; returns its exit code.</summary>
    private static async Task<int> RunChild(SweepFolder sweep, SweepTask task, Settings settings)
    {
        var command = PisaExecutable.Command();
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in command.Skip(1)) start.ArgumentList.Add(argument);
        foreach (string argument in new[] { "sweep", "task", sweep.Path, "--index", task.Index.ToString(CultureInfo.InvariantCulture),
                     "--threads", settings.Threads.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        if (settings.Device is not null) { start.ArgumentList.Add("--device"); start.ArgumentList.Add(settings.Device); }

        Directory.CreateDirectory(sweep.LogsDirectory);
        await using var log = new StreamWriter(sweep.Log(task), append: true) { AutoFlush = true };
        await log.WriteLineAsync($"pisa sweep task {task.Index}: local process, {DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ}");
        using var process = Process.Start(start)!;
        var gate = new object();
        void Append(string? line)
        {
            if (line is null) return;
            lock (gate) log.WriteLine(line);
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync(CancellationToken.None);
        return process.ExitCode;
    }
}
