using System.ComponentModel;
using Pisa.Training.Sweeps;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Sweep;

/// <summary>
/// <c>pisa sweep submit DIR --slurm [--partition P] [--time T] [--cpus-per-task C] [--gres gpu:1] [--max-parallel K]
/// [--sbatch-arg …] [--dry-run]</c>: one Slurm job array over the tasks not yet done (nor queued from an earlier
/// submission), and a report job that runs after it. The scripts are written to <c>DIR/slurm/</c>.
/// </summary>
public sealed class SweepSubmitCommand : Command<SweepSubmitCommand.Settings>
{
    /// <summary>Slurm job states of a task that is still queued or running.</summary>
    private static readonly HashSet<string> Active = ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "SIGNALING", "STAGE_OUT"];

    public sealed class Settings : SweepFolderSettings
    {
        [CommandOption("--slurm")]
        [Description("Submit to Slurm (the one backend of submit; on this machine: pisa sweep run --local).")]
        public bool Slurm { get; init; }

        [CommandOption("--partition <P>")]
        public string? Partition { get; init; }

        [CommandOption("--time <T>")]
        [Description("Each task's time limit (sbatch --time, e.g. 4:00:00); tasks checkpoint and requeue themselves before it.")]
        public string? Time { get; init; }

        [CommandOption("--cpus-per-task <C>")]
        [Description("CPUs per task, and its threads (default 1).")]
        public int CpusPerTask { get; init; } = 1;

        [CommandOption("--gres <GRES>")]
        [Description("Generic resources per task, e.g. gpu:1 (with --device cuda).")]
        public string? Gres { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("cpu or cuda, passed to every task.")]
        public string? Device { get; init; }

        [CommandOption("--max-parallel <K>")]
        [Description("At most K tasks running at once (--array=…%K).")]
        public int? MaxParallel { get; init; }

        [CommandOption("--signal-seconds <S>")]
        [Description("Seconds before the time limit at which Slurm signals a task to checkpoint and requeue (default 120).")]
        public int SignalSeconds { get; init; } = 120;

        [CommandOption("--sbatch-arg <ARG>")]
        [Description("An extra sbatch option for the array, e.g. --sbatch-arg=--account=lab (repeatable).")]
        public string[] SbatchArg { get; init; } = [];

        [CommandOption("--dry-run")]
        [Description("Print the batch scripts and sbatch commands instead of submitting.")]
        public bool DryRun { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!settings.Slurm) throw new PisaUserException("pisa sweep submit: give --slurm (to run on this machine: pisa sweep run DIR --local)");
        if (settings.CpusPerTask < 1) throw new PisaUserException("--cpus-per-task must be at least 1");
        if (settings.MaxParallel is < 1) throw new PisaUserException("--max-parallel must be at least 1");
        var sweep = new SweepFolder(settings.Sweep);
        try
        {
            return Submit(sweep, sweep.ReadPlan(), settings);
        }
        catch (SweepException ex)
        {
            throw new PisaUserException(ex.Message);
        }
    }

    private static int Submit(SweepFolder sweep, SweepPlan plan, Settings settings)
    {
        var queued = SlurmClient.States(SlurmSubmission.ReadAll(sweep).Select(s => s.ArrayJob).ToList());
        var todo = plan.Tasks
            .Where(t => TaskState.Read(sweep.RunDirectory(t)).Phase != TaskPhase.Done)
            .Where(t => !(queued.TryGetValue(t.Index, out string? state) && Active.Contains(state)))
            .Select(t => t.Index).ToList();
        if (todo.Count == 0)
        {
            Console.Out.WriteLine($"{plan.Name}: every task is done or already queued; nothing to submit ('pisa sweep status {settings.Sweep}')");
            return PisaApp.Ok;
        }

        var options = new SlurmOptions(settings.Partition, settings.Time, settings.CpusPerTask, settings.Gres, settings.MaxParallel,
            settings.SignalSeconds, settings.Device, settings.SbatchArg);
        var pisa = PisaExecutable.Command();
        string arrayScript = Path.Combine(sweep.SlurmDirectory, "array.sh"), reportScript = Path.Combine(sweep.SlurmDirectory, "report.sh");
        string arrayText = SlurmScripts.Array(sweep, plan, pisa, options), reportText = SlurmScripts.Report(sweep, plan, pisa, options);
        string array = SlurmScripts.ArraySpec(todo, settings.MaxParallel);
        if (settings.DryRun)
        {
            Console.Out.WriteLine($"# sbatch --array={array} {arrayScript}");
            Console.Out.Write(arrayText);
            Console.Out.WriteLine($"# sbatch --dependency=afterany:<array job> {reportScript}");
            Console.Out.Write(reportText);
            return PisaApp.Ok;
        }

        Directory.CreateDirectory(sweep.LogsDirectory);
        foreach (var (path, text) in new[] { (arrayScript, arrayText), (reportScript, reportText) })
        {
            AtomicFile.WriteAllText(path, text);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
        }
        string arrayJob = SlurmClient.Submit(arrayScript, [$"--array={array}"]);
        string reportJob = SlurmClient.Submit(reportScript, [$"--dependency=afterany:{arrayJob}"]);
        SlurmSubmission.Append(sweep, new SlurmSubmission(arrayJob, reportJob, array, DateTimeOffset.UtcNow));
        Console.Out.WriteLine($"{plan.Name}: submitted {todo.Count} of {plan.Tasks.Count} tasks as job array {arrayJob} (--array={array}); report job {reportJob} runs after it");
        Console.Out.WriteLine($"follow it with: pisa sweep status {settings.Sweep}");
        return PisaApp.Ok;
    }
}
