namespace Pisa.Training.Sweeps;

/// <summary>
/// The folder of a sweep, everything a task or a report reads or writes:
/// <code>
/// sweep.json                           the plan (tasks, seeds, variants, data)
/// runs/{recipe}/{variant}/seed-{s}/    one run folder per task (recipe.resolved.yaml, run.json, task.json, metrics…)
/// logs/task-{i}.log                    each task's output, appended across attempts
/// slurm/array.sh, slurm/report.sh      the batch scripts of the last submission (readable, resubmittable by hand)
/// slurm/submissions.json               the Slurm job ids of every submission
/// report.md, report.csv, report.png    pisa sweep report
/// </code>
/// </summary>
public sealed class SweepFolder(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public string PlanFile => In(SweepPlan.FileName);
    public string LogsDirectory => In("logs");
    public string SlurmDirectory => In("slurm");

    public string In(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string RunDirectory(SweepTask task) => In(task.Run.Split('/'));

    public string Log(SweepTask task) => System.IO.Path.Combine(LogsDirectory, $"task-{task.Index}.log");

    public SweepPlan ReadPlan() => SweepPlan.Read(Path);
}
