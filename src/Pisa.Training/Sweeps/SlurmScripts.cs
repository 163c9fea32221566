using System.Globalization;
using System.Text;

namespace Pisa.Training.Sweeps;

/// <summary>What <c>pisa sweep submit --slurm</c> asks of Slurm, beyond the tasks.</summary>
/// <param name="SignalSeconds">How long before the time limit Slurm signals a task to checkpoint and requeue itself (<c>--signal=B:USR1@s</c>).</param>
/// <param name="Device">Passed to each task as <c>--device</c> (cuda with <c>--gres gpu:1</c>), or null for the default.</param>
/// <param name="Environment">Variables exported into every task (NAME=value), e.g. a thread setting of the cluster.</param>
public sealed record SlurmOptions(
    string? Partition = null,
    string? Time = null,
    int CpusPerTask = 1,
    string? Gres = null,
    int? MaxParallel = null,
    int SignalSeconds = 120,
    string? Device = null,
    IReadOnlyList<string>? SbatchArgs = null);

/// <summary>
/// The two batch scripts of a Slurm submission, plain files in the sweep's <c>slurm/</c> folder that a user can read
/// and resubmit by hand: <c>array.sh</c>, one array task per sweep task (<c>pisa sweep task DIR --index
/// $SLURM_ARRAY_TASK_ID</c>), which passes Slurm's USR1 on to pisa and requeues itself when pisa stopped with a
/// checkpoint; and <c>report.sh</c>, the aggregation job that runs after the array (<c>--dependency=afterany</c>).
/// </summary>
public static class SlurmScripts
{
    /// <summary>The exit code of a task that stopped on a signal after writing a checkpoint: start it again to resume.</summary>
    public const int Preempted = 3;

    public static string Array(SweepFolder sweep, SweepPlan plan, IReadOnlyList<string> pisa, SlurmOptions options)
    {
        var text = new StringBuilder("#!/usr/bin/env bash\n");
        text.Append(CultureInfo.InvariantCulture, $"# pisa sweep {plan.Name}: one array task per sweep task, written by 'pisa sweep submit'. By hand:\n");
        text.Append(CultureInfo.InvariantCulture, $"#   sbatch --array=0-{plan.Tasks.Count - 1} {Path.Combine(sweep.SlurmDirectory, "array.sh")}\n");
        Directive(text, "--job-name", $"pisa-{plan.Name}");
        Directive(text, "--output", Path.Combine(sweep.LogsDirectory, "task-%a.log"));
        Directive(text, "--open-mode", "append");
        text.Append("#SBATCH --requeue\n");
        Directive(text, "--signal", $"B:USR1@{options.SignalSeconds}");
        Common(text, options);
        text.Append(CultureInfo.InvariantCulture, $$"""
            set -u
            # Slurm signals this shell {{options.SignalSeconds}} s before the time limit (so does 'scancel --signal=USR1 --batch'):
            # pass USR1 on to pisa, which writes a checkpoint after its current iteration and exits {{Preempted}}; then requeue this
            # task. Started again, it resumes from its run folder. A task killed hard resumes from its last checkpoint the same way.
            preempted=0
            trap 'preempted=1; kill -USR1 "$child" 2>/dev/null' USR1
            echo "pisa sweep task $SLURM_ARRAY_TASK_ID: job $SLURM_JOB_ID on $(hostname), start $((${SLURM_RESTART_COUNT:-0} + 1)), $(date -u +%FT%TZ)"
            {{Command(pisa)}} sweep task {{Quote(sweep.Path)}} --index "$SLURM_ARRAY_TASK_ID" --threads "${SLURM_CPUS_PER_TASK:-1}"{{(options.Device is null ? "" : $" --device {Quote(options.Device)}")}} &
            child=$!
            # A trapped signal interrupts wait (status above 128) while pisa goes on: wait until pisa itself has exited.
            while :; do
              wait "$child"; status=$?
              kill -0 "$child" 2>/dev/null || break
            done
            if [ "$status" -gt 128 ]; then wait "$child" 2>/dev/null; last=$?; [ "$last" != 127 ] && status=$last; fi
            # Requeue after a checkpoint (exit {{Preempted}}), or when the signal came before pisa could take it (it died of it).
            if [ "$preempted" = 1 ] && { [ "$status" = {{Preempted}} ] || [ "$status" -gt 128 ]; }; then
              echo "pisa sweep task $SLURM_ARRAY_TASK_ID: stopped on USR1 (exit $status), requeueing job $SLURM_JOB_ID"
              scontrol requeue "$SLURM_JOB_ID" && exit 0
            fi
            exit "$status"

            """);
        return text.ToString();
    }

    public static string Report(SweepFolder sweep, SweepPlan plan, IReadOnlyList<string> pisa, SlurmOptions options)
    {
        var text = new StringBuilder("#!/usr/bin/env bash\n");
        text.Append(CultureInfo.InvariantCulture, $"# pisa sweep {plan.Name}: the report, once every array task has ended ('pisa sweep submit' adds --dependency=afterany:<array>).\n");
        Directive(text, "--job-name", $"pisa-{plan.Name}-report");
        Directive(text, "--output", Path.Combine(sweep.LogsDirectory, "report.log"));
        Directive(text, "--open-mode", "append");
        if (options.Partition is not null) Directive(text, "--partition", options.Partition);
        Directive(text, "--cpus-per-task", "1");
        text.Append(CultureInfo.InvariantCulture, $"{Command(pisa)} sweep report {Quote(sweep.Path)}\n");
        return text.ToString();
    }

    /// <summary>Slurm's array syntax for <paramref name="indices"/>: ranges where they run on (<c>0-3,6,8-9</c>), then <c>%K</c>.</summary>
    public static string ArraySpec(IReadOnlyList<int> indices, int? maxParallel)
    {
        if (indices.Count == 0) throw new ArgumentException("no tasks to submit", nameof(indices));
        var parts = new List<string>();
        var sorted = indices.Distinct().Order().ToList();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? sorted[i].ToString(CultureInfo.InvariantCulture) : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(",", parts) + (maxParallel is int k ? $"%{k}" : "");
    }

    /// <summary>A word for a POSIX shell, single-quoted when it needs quoting.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+=:@,".Contains(c)) ? word : $"'{word.Replace("'", "'\\''")}'";

    private static string Command(IReadOnlyList<string> pisa) => string.Join(" ", pisa.Select(Quote));

    private static void Common(StringBuilder text, SlurmOptions options)
    {
        if (options.Partition is not null) Directive(text, "--partition", options.Partition);
        if (options.Time is not null) Directive(text, "--time", options.Time);
        Directive(text, "--cpus-per-task", options.CpusPerTask.ToString(CultureInfo.InvariantCulture));
        if (options.Gres is not null) Directive(text, "--gres", options.Gres);
        foreach (string arg in options.SbatchArgs ?? []) text.Append("#SBATCH ").Append(arg).Append('\n');
    }

    private static void Directive(StringBuilder text, string option, string value) => text.Append("#SBATCH ").Append(option).Append('=').Append(value).Append('\n');
}
