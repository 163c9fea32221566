using System.Diagnostics;
using Pisa.Training.Runs;
using Pisa.Training.Sweeps;

namespace Pisa.Cli.Tests;

/// <summary>
/// A 2-variant × 2-seed sweep of a tiny recipe through a real Slurm (the one <c>build/slurm/start-local-slurm.sh</c>
/// starts; <c>.ci/run</c> does), with task 0 signalled mid-run as Slurm does ahead of a time limit. Where no Slurm
/// answers, the tests report skipped, with the reason.
/// </summary>
public sealed class SlurmSweepFixture : IDisposable
{
    /// <summary>A schedule of 16 iterations on 32 small images: a few seconds of training per task.</summary>
    public static readonly string[] Tiny =
    [
        "--set", "train.epochs=1", "--set", "train.image_size=64", "--set", "train.batch=2", "--set", "train.warmup_iters=2",
        "--set", "sample.num=32", "--set", "rpn.train_proposals=48", "--set", "rpn.test_proposals=48", "--train-images", "32", "--val-images", "8",
    ];

    public static readonly string[] Variants = ["--variant", "IsrK1_CarlBias0", "--variant", "IsrK2_CarlBias0p2"];

    public SlurmSweepFixture()
    {
        var (code, output, error) = SlurmClient.Run("sinfo", ["--noheader", "--format=%t"]);
        if (code != 0 || !output.Split('\n').Any(s => s.Trim() is "idle" or "mix" or "alloc"))
        {
            Unavailable = $"no Slurm cluster answers here (sinfo exit code {code}: {(error + output).Trim()}); start one with build/slurm/start-local-slurm.sh and set SLURM_CONF";
            return;
        }
        Folder = Directory.CreateTempSubdirectory("pisa-sweep-slurm-").FullName;
        Sweep = Path.Combine(Folder, "sweep");
        var clock = Stopwatch.StartNew();
        Run(["sweep", "plan", RepoPaths.InRoot("recipes", "pisa-sweep.yaml"), .. Variants, "--seeds", "0,1", .. Tiny, "--out", Sweep]);
        Run("sweep", "submit", Sweep, "--slurm", "--cpus-per-task", "1");
        ArrayJob = SlurmSubmission.ReadAll(new SweepFolder(Sweep)).Single().ArrayJob;

        // Task 0: once it runs (its state is written after its signal handlers are in place), send USR1 to its batch
        // shell (pisa's parent), as Slurm does --signal seconds before the time limit. It checkpoints and requeues itself.
        // (Not through 'scancel --signal=USR1 --batch': Slurm 22.05 delivers it but answers "try again later", and
        // scancel then sends it again every few seconds.)
        string run0 = RunOf(0);
        WaitUntil(() => TaskState.Read(run0).Phase == TaskPhase.Running, TimeSpan.FromMinutes(3), "task 0 to start");
        int pisa = int.Parse(System.Text.RegularExpressions.Regex.Match(TaskState.Read(run0).Runner ?? "", @"process (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string stat = File.ReadAllText($"/proc/{pisa}/stat");
        string batchShell = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]; // after "pid (comm) state": the parent pid
        Slurm("kill", "-USR1", batchShell);
        WaitUntil(() => TaskState.Read(run0).Phase == TaskPhase.Preempted, TimeSpan.FromMinutes(2), "task 0 to stop with a checkpoint");
        // Slurm holds a requeued job for two minutes before it may start again; let it start now.
        WaitUntil(() => SlurmClient.Run("scontrol", ["update", $"JobId={ArrayJob}_0", "StartTime=now"]).Code == 0, TimeSpan.FromMinutes(1), "task 0 to be requeued");
        WaitForJobs(Sweep);
        Seconds = clock.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        if (Folder.Length > 0) Directory.Delete(Folder, recursive: true);
    }

    public string? Unavailable { get; }
    public string Folder { get; } = "";
    public string Sweep { get; } = "";
    public string ArrayJob { get; } = "";
    public double Seconds { get; }

    public string RunOf(int index) => new SweepFolder(Sweep).RunDirectory(SweepPlan.Read(Sweep).Tasks[index]);

    public static void Run(params string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == PisaApp.Ok, $"pisa {string.Join(" ", args)}: exit code {code}\n{output}\n{error}");
    }

    public static void Slurm(string command, params string[] args)
    {
        var (code, output, error) = SlurmClient.Run(command, args);
        Assert.True(code == 0, $"{command} {string.Join(" ", args)}: exit code {code}: {output}{error}");
    }

    /// <summary>Until no job of the sweep's submissions is queued or running (the report job last), 8 minutes at most.</summary>
    public static void WaitForJobs(string sweep)
    {
        string jobs = string.Join(",", SlurmSubmission.ReadAll(new SweepFolder(sweep)).SelectMany(s => new[] { s.ArrayJob, s.ReportJob }));
        WaitUntil(() => SlurmClient.Run("squeue", ["--noheader", "--jobs", jobs, "--format=%i"]) is var q && (q.Code != 0 || q.Output.Trim().Length == 0),
            TimeSpan.FromMinutes(8), $"jobs {jobs} to end");
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}");
            Thread.Sleep(250);
        }
    }
}

[Collection(nameof(CliRunner))]
public sealed class SweepSlurmTests(SlurmSweepFixture sweep) : IClassFixture<SlurmSweepFixture>
{
    [SkippableFact]
    public void A_2x2_sweep_runs_as_one_job_array_and_its_report_job_writes_mean_std_per_variant()
    {
        Skip.If(sweep.Unavailable is not null, sweep.Unavailable);
        var plan = SweepPlan.Read(sweep.Sweep);
        Assert.All(plan.Tasks, t => Assert.Equal(TaskPhase.Done, TaskState.Read(sweep.RunOf(t.Index)).Phase));

        // Written by the report job (afterany on the array), not by the test.
        string log = File.ReadAllText(Path.Combine(sweep.Sweep, "logs", "report.log"));
        Assert.Contains("wrote", log);
        string markdown = File.ReadAllText(Path.Combine(sweep.Sweep, "report.md"));
        foreach (string variant in plan.Variants) Assert.Matches($@"\| {variant} \| 2/2 seeds \| \d\.\d{{4}} ± \d\.\d{{4}} \(n=2\) \|", markdown);
        Assert.Contains("## Difference to the baseline, PisaSweep_IsrK1_CarlBias0", markdown);
        Assert.Matches(@"\| PisaSweep_IsrK2_CarlBias0p2 \| [+-]\d\.\d{4} ± \d\.\d{4} \|", markdown);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(sweep.Sweep, "report.csv")).Length);
        Assert.True(new FileInfo(Path.Combine(sweep.Sweep, "report.png")).Length > 1000);

        var (code, output, _) = CliRunner.Run("sweep", "status", sweep.Sweep);
        Assert.Equal(PisaApp.Ok, code);
        Assert.Contains("4 tasks: 4 done", output);
    }

    [SkippableFact]
    public void The_task_requeued_mid_run_resumes_and_finishes_with_the_metrics_of_an_uninterrupted_run_bit_for_bit()
    {
        Skip.If(sweep.Unavailable is not null, sweep.Unavailable);
        string run = sweep.RunOf(0);
        var state = TaskState.Read(run);
        Assert.Equal((TaskPhase.Done, 2), (state.Phase, state.Attempts));
        Assert.Contains($"requeueing job", File.ReadAllText(Path.Combine(sweep.Sweep, "logs", "task-0.log")));
        var records = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"));
        // The first attempt's last loss window (at the step it stopped) is still in the log: the second attempt resumed, it did not start over.
        long total = records[^1].Step;
        Assert.Contains(records, r => !r.Values.ContainsKey("epoch") && r.Step < total);

        // The same task, planned alone and run here without interruption, on one thread as the array task ran.
        string reference = Path.Combine(sweep.Folder, "reference");
        SlurmSweepFixture.Run(["sweep", "plan", RepoPaths.InRoot("recipes", "pisa-sweep.yaml"), "--variant", "IsrK1_CarlBias0", "--seeds", "0",
            .. SlurmSweepFixture.Tiny, "--out", reference]);
        SlurmSweepFixture.Run("sweep", "run", reference, "--local", "--jobs", "1", "--threads", "1");
        string referenceRun = new SweepFolder(reference).RunDirectory(SweepPlan.Read(reference).Tasks[0]);

        var evaluated = Evaluation(run);
        var expected = Evaluation(referenceRun);
        Assert.Equal(expected.Keys.Order(), evaluated.Keys.Order());
        foreach (var (name, value) in expected)
            Assert.True(BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(evaluated[name]), $"{name}: {evaluated[name]:R} after the requeue, {value:R} uninterrupted");
    }

    [SkippableFact]
    public void Resubmitting_submits_only_the_tasks_not_done()
    {
        Skip.If(sweep.Unavailable is not null, sweep.Unavailable);
        // Task 3 back to its planned state (as if it had never run); the others are done.
        string run3 = sweep.RunOf(3);
        foreach (string entry in Directory.EnumerateFileSystemEntries(run3).Where(e => Path.GetFileName(e) is not ("recipe.resolved.yaml" or "run.json")))
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        var before = Enumerable.Range(0, 3).ToDictionary(i => i, i => File.ReadAllText(Path.Combine(sweep.RunOf(i), TaskState.FileName)));

        var (code, output, error) = CliRunner.Run("sweep", "submit", sweep.Sweep, "--slurm");

        Assert.True(code == PisaApp.Ok, error);
        Assert.Contains("submitted 1 of 4 tasks", output);
        Assert.Equal("3", SlurmSubmission.ReadAll(new SweepFolder(sweep.Sweep))[^1].Array);
        SlurmSweepFixture.WaitForJobs(sweep.Sweep);
        Assert.Equal(TaskPhase.Done, TaskState.Read(run3).Phase);
        foreach (var (index, text) in before) Assert.Equal(text, File.ReadAllText(Path.Combine(sweep.RunOf(index), TaskState.FileName)));

        // All done: nothing left to submit.
        var (again, againOutput, _) = CliRunner.Run("sweep", "submit", sweep.Sweep, "--slurm");
        Assert.Equal(PisaApp.Ok, again);
        Assert.Contains("nothing to submit", againOutput);
    }

    /// <summary>The last evaluation record of a run, without its wall time.</summary>
    private static Dictionary<string, double> Evaluation(string run)
    {
        var last = MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Last(r => r.Values.ContainsKey("epoch"));
        return last.Values.Where(v => v.Key != "wall_s").ToDictionary(v => v.Key, v => v.Value);
    }
}
