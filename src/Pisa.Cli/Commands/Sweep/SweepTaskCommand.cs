using System.ComponentModel;
using System.Runtime.InteropServices;
using Pisa.Compilation;
using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using Pisa.Training.Sweeps;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Sweep;

/// <summary>
/// <c>pisa sweep task DIR --index I</c>: runs one task of a sweep in its own run folder, what a local child process or a
/// Slurm array task executes. It starts the run, or resumes it from its last checkpoint (after a requeue or a hard kill);
/// a task already done is left alone. SIGUSR1, SIGTERM and SIGINT stop it after the current iteration with a checkpoint
/// (exit code 3, <see cref="SlurmScripts.Preempted"/>). Its phase is kept in the run folder's <c>task.json</c>.
/// </summary>
public sealed class SweepTaskCommand : Command<SweepTaskCommand.Settings>
{
    public sealed class Settings : SweepFolderSettings
    {
        [CommandOption("--index <I>")]
        [Description("The task's index in sweep.json (Slurm: $SLURM_ARRAY_TASK_ID).")]
        public int? Index { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Intra-op threads (default: libtorch's choice).")]
        public int? Threads { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("cpu or cuda (default: cuda when available).")]
        public string? Device { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Index is not int index) throw new PisaUserException("pisa sweep task: give the task with --index I");
        var sweep = new SweepFolder(settings.Sweep);
        SweepTask task;
        try
        {
            task = sweep.ReadPlan().Task(index);
        }
        catch (SweepException ex)
        {
            throw new PisaUserException(ex.Message);
        }
        string runDirectory = sweep.RunDirectory(task);
        using var held = TaskLock.TryTake(runDirectory)
            ?? throw new PisaUserException($"{runDirectory}: task {index} is running in another process (its {TaskLock.FileName} is held)");
        var state = TaskState.Read(runDirectory);
        if (state.Phase == TaskPhase.Done)
        {
            Console.Out.WriteLine($"task {index} ({task.Variant} seed {task.Seed}) is already done");
            return PisaApp.Ok;
        }
        if (settings.Threads is int threads)
        {
            if (threads < 1) throw new PisaUserException("--threads must be at least 1");
            TorchSharp.torch.set_num_threads(threads);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = StopSignals.Register(stop);
        state = new TaskState(TaskPhase.Running, state.Attempts + 1, state.Step, null, Runner(), default);
        state.Write(runDirectory);
        try
        {
            var result = Run(runDirectory, new TrainingOptions(Device: settings.Device), stop.Token);
            if (result.Completed)
            {
                (state with { Phase = TaskPhase.Done, Step = result.Step }).Write(runDirectory);
                return PisaApp.Ok;
            }
            (state with { Phase = TaskPhase.Preempted, Step = result.Step, Message = $"stopped by a signal at step {result.Step} with a checkpoint" }).Write(runDirectory);
            Console.Out.WriteLine($"task {index}: stopped at step {result.Step} with a checkpoint; starting it again resumes there");
            return SlurmScripts.Preempted;
        }
        catch (Exception ex)
        {
            (state with { Phase = TaskPhase.Failed, Message = ex.Message }).Write(runDirectory);
            if (ex is DatasetException or CocoFormatException or TrainingException or RecipeCompilationException) throw new PisaUserException($"task {index}: {ex.Message}");
            throw;
        }
    }

    /// <summary>Starts the task's run in its folder, or resumes it from the newest checkpoint there.</summary>
    private static TrainingResult Run(string runDirectory, TrainingOptions options, CancellationToken stop)
    {
        var (recipe, pipeline) = RunRecipe.Load(runDirectory);
        var (train, val) = TrainingData.Read(runDirectory).Load();
        var run = RunFolder.Open(runDirectory);
        string name = $"{run.Variant}/{Path.GetFileName(runDirectory)}";
        bool resume = Directory.Exists(run.CheckpointsDirectory) && new CheckpointWriter(run.CheckpointsDirectory).Latest is not null;
        if (resume) return TrainCommand.Observed(name, observe => TrainingRuns.Resume(runDirectory, recipe, pipeline, train, val, options, observe, stop));
        ClearPartialRun(run);
        return TrainCommand.Observed(name, observe => TrainingRuns.StartIn(run, recipe, pipeline, train, val, options, observe, stop));
    }

    /// <summary>What a start killed before its first checkpoint left behind (a fresh start must not append to it).</summary>
    private static void ClearPartialRun(RunFolder run)
    {
        foreach (string file in new[] { run.MetricsJsonl, run.MetricsCsv, run.In("detections_val.json") }) File.Delete(file);
        foreach (string folder in new[] { run.In("tensorboard"), run.PlotsDirectory })
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>Who runs the task: the Slurm array task, or the host and process.</summary>
    private static string Runner()
    {
        string host = Environment.MachineName;
        return Environment.GetEnvironmentVariable("SLURM_JOB_ID") is { } job
            ? $"slurm job {Environment.GetEnvironmentVariable("SLURM_ARRAY_JOB_ID")}_{Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID")} ({job}) on {host}, process {Environment.ProcessId}"
            : $"process {Environment.ProcessId} on {host}";
    }

    /// <summary>SIGUSR1 (Slurm's warning before the time limit), SIGTERM and SIGINT, each mapped to the same stop as Ctrl-C in pisa train.</summary>
    private sealed class StopSignals : IDisposable
    {
        private readonly List<PosixSignalRegistration> registrations = [];

        public static StopSignals Register(CancellationTokenSource stop)
        {
            var signals = new StopSignals();
            if (OperatingSystem.IsWindows()) return signals;
            // PosixSignal has no SIGUSR1; raw numbers are accepted: 10 on Linux, 30 on macOS.
            var usr1 = (PosixSignal)(OperatingSystem.IsMacOS() ? 30 : 10);
            foreach (var signal in new[] { usr1, PosixSignal.SIGTERM, PosixSignal.SIGINT })
                signals.registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    if (stop.IsCancellationRequested) return;
                    Console.Error.WriteLine($"signal {(int)context.Signal}: stopping after this iteration with a checkpoint");
                    stop.Cancel();
                }));
            return signals;
        }

        public void Dispose()
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }
}
