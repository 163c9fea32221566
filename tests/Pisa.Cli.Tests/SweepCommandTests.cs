using System.Text.Json;
using Pisa.Training.Engine;
using Pisa.Training.Sweeps;

namespace Pisa.Cli.Tests;

/// <summary><c>pisa sweep plan</c>, <c>report</c> and <c>submit --dry-run</c> on this machine, without training or Slurm.</summary>
[Collection(nameof(CliRunner))]
public sealed class SweepCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pisa-sweep-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Plan_writes_one_task_per_variant_and_seed_each_with_its_own_run_folder_and_seeded_recipe()
    {
        string sweep = Path.Combine(_folder, "grid");

        var (code, output, error) = CliRunner.Run("sweep", "plan", RepoPaths.InRoot("recipes", "pisa-sweep.yaml"),
            "--variant", "IsrK1_CarlBias0", "--variant", "IsrK2_CarlBias0p2", "--seeds", "3,7", "--set", "train.epochs=1", "--out", sweep);

        Assert.True(code == PisaApp.Ok, error);
        var plan = SweepPlan.Read(sweep);
        Assert.Equal(
            [
                (0, "PisaSweep_IsrK1_CarlBias0", 3), (1, "PisaSweep_IsrK1_CarlBias0", 7),
                (2, "PisaSweep_IsrK2_CarlBias0p2", 3), (3, "PisaSweep_IsrK2_CarlBias0p2", 7),
            ],
            plan.Tasks.Select(t => (t.Index, t.Variant, t.Seed)));
        Assert.Equal("PisaSweep_IsrK1_CarlBias0", plan.Baseline);
        Assert.Equal(4, plan.Tasks.Select(t => t.Run).Distinct().Count());
        foreach (var task in plan.Tasks)
        {
            string run = Path.Combine(sweep, task.Run);
            string resolved = File.ReadAllText(Path.Combine(run, TrainingRuns.ResolvedRecipeFile));
            Assert.Contains($"seed: {task.Seed}", resolved);
            Assert.Contains("epochs: 1", resolved);
            Assert.Equal(TaskPhase.Pending, TaskState.Read(run).Phase);
            Assert.Equal("builtin:shapes", TrainingData.Read(run).Data);
        }
        Assert.Contains("planned 4 tasks (2 variant(s) x 2 seed(s))", output);
    }

    [Fact]
    public void Plan_refuses_a_broken_recipe_with_its_located_error_and_writes_no_sweep()
    {
        string recipe = Path.Combine(_folder, "broken.yaml");
        File.WriteAllText(recipe, File.ReadAllText(RepoPaths.InRoot("recipes", "faster-rcnn.yaml")).Replace("pos_fraction: 0.25", "pos_fractoin: 0.25"));
        string sweep = Path.Combine(_folder, "broken-sweep");

        var (code, _, error) = CliRunner.Run("sweep", "plan", recipe, "--seeds", "0,1", "--out", sweep);

        Assert.Equal(PisaApp.UserError, code);
        Assert.Matches(@"broken\.yaml\(\d+,\d+\): error PISA\d+: .*pos_fractoin", error);
        Assert.False(File.Exists(Path.Combine(sweep, SweepPlan.FileName)));
    }

    [Theory]
    [InlineData("--seeds", "0,0", "listed twice")]
    [InlineData("--seeds", "0,x", "'x' is not a seed")]
    [InlineData("--variant", "NoSuchPoint", "NoSuchPoint")]
    [InlineData("--set", "train.epochs=0", "train.epochs")]
    public void Plan_refuses_bad_options_before_writing_anything(string option, string value, string message)
    {
        string sweep = Path.Combine(_folder, "bad");

        var (code, _, error) = CliRunner.Run("sweep", "plan", RepoPaths.InRoot("recipes", "pisa-sweep.yaml"), option, value, "--out", sweep);

        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains(message, error);
        Assert.False(File.Exists(Path.Combine(sweep, SweepPlan.FileName)));
    }

    [Fact]
    public void Report_gives_mean_std_and_n_per_variant_the_difference_to_the_baseline_and_marks_a_variant_with_a_failed_seed()
    {
        string sweep = Path.Combine(_folder, "done");
        Plan(sweep, ["A", "B", "C"], [0, 1]);
        // A: AP 0.5, 0.7 (mean 0.6, std √0.02); B: AP 0.6, 0.9 (mean 0.75, std √0.045); C: seed 1 failed.
        Finish(sweep, "A", 0, ap: 0.5, wall: 100);
        Finish(sweep, "A", 1, ap: 0.7, wall: 120);
        Finish(sweep, "B", 0, ap: 0.6, wall: 200);
        Finish(sweep, "B", 1, ap: 0.9, wall: 220);
        Finish(sweep, "C", 0, ap: 0.95, wall: 50);
        new TaskState(TaskPhase.Failed, 1, 3, "loss_cls became NaN at step 3", null, default).Write(Path.Combine(sweep, "runs", "r", "C", "seed-1"));

        var (code, output, error) = CliRunner.Run("sweep", "report", sweep);

        Assert.True(code == PisaApp.Ok, error);
        string markdown = File.ReadAllText(Path.Combine(sweep, "report.md"));
        Assert.Contains("| A | 2/2 seeds | 0.6000 ± 0.1414 (n=2) |", markdown);
        Assert.Contains("| B | 2/2 seeds | 0.7500 ± 0.2121 (n=2) |", markdown);
        Assert.Contains("| C | 1/2 seeds; INCOMPLETE: seed 1 failed | 0.9500 (n=1) |", markdown);
        // B − A = 0.15 ± √(0.02/2 + 0.045/2) = 0.1803; C is not compared.
        Assert.Contains("| B | +0.1500 ± 0.1803 |", markdown);
        Assert.Contains("| C | n/a (incomplete) |", markdown);
        Assert.Contains("loss_cls became NaN at step 3", markdown);
        Assert.Contains("| A | 2/2 seeds | 0.6000 ± 0.1414 (n=2) |", output);

        var csv = File.ReadAllLines(Path.Combine(sweep, "report.csv"));
        var header = csv[0].Split(',');
        var b = csv.Single(l => l.StartsWith("B,", StringComparison.Ordinal)).Split(',');
        var c = csv.Single(l => l.StartsWith("C,", StringComparison.Ordinal)).Split(',');
        double Cell(string[] row, string column) => double.Parse(row[Array.IndexOf(header, column)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0.75, Cell(b, "AP_mean"), 12);
        Assert.Equal(Math.Sqrt(0.045), Cell(b, "AP_std"), 12);
        Assert.Equal(0.15, Cell(b, "AP_diff"), 12);
        Assert.Equal(210, Cell(b, "wall_s_mean"), 12);
        Assert.Equal(("no", "1 failed"), (c[1], c[3]));
        Assert.Equal("", c[Array.IndexOf(header, "AP_diff")]);
        Assert.True(new FileInfo(Path.Combine(sweep, "report.png")).Length > 1000);
    }

    [Fact]
    public void Submit_dry_run_arrays_only_the_tasks_not_done_and_passes_preemption_and_gpu_options_to_the_script()
    {
        string sweep = Path.Combine(_folder, "partial");
        Plan(sweep, ["A", "B"], [0, 1, 2]);
        Finish(sweep, "A", 0, ap: 0.5, wall: 1);
        Finish(sweep, "A", 1, ap: 0.5, wall: 1);
        Finish(sweep, "B", 1, ap: 0.5, wall: 1);

        var (code, output, error) = CliRunner.Run("sweep", "submit", sweep, "--slurm", "--dry-run", "--max-parallel", "2", "--time", "1:00:00",
            "--gres", "gpu:1", "--device", "cuda", "--cpus-per-task", "4", "--signal-seconds", "300", "--sbatch-arg=--account=lab");

        Assert.True(code == PisaApp.Ok, error);
        Assert.Contains("# sbatch --array=2-3,5%2 ", output); // tasks 2 (A seed 2), 3 (B seed 0), 5 (B seed 2)
        foreach (string line in new[] { "#SBATCH --time=1:00:00", "#SBATCH --gres=gpu:1", "#SBATCH --cpus-per-task=4", "#SBATCH --signal=B:USR1@300",
                     "#SBATCH --requeue", "#SBATCH --account=lab", "--device cuda", "scontrol requeue" })
            Assert.Contains(line, output);
        Assert.Contains("--dependency=afterany:", output);
        Assert.False(Directory.Exists(Path.Combine(sweep, "slurm"))); // a dry run submits and records nothing
    }

    [Fact]
    public void Status_reads_each_tasks_phase_from_the_folder_and_calls_a_running_task_without_its_lock_killed()
    {
        string sweep = Path.Combine(_folder, "status");
        Plan(sweep, ["A"], [0, 1, 2, 3, 4]);
        string Run(int seed) => Path.Combine(sweep, "runs", "r", "A", $"seed-{seed}");
        Finish(sweep, "A", 0, ap: 0.5, wall: 1);
        new TaskState(TaskPhase.Failed, 1, null, "data/instances.json: image 7 has no file", null, default).Write(Run(1));
        // Killed hard: its state still says running, but no process holds its lock.
        new TaskState(TaskPhase.Running, 1, null, null, "process 999999 on elsewhere", default).Write(Run(2));
        new TaskState(TaskPhase.Preempted, 1, 40, "stopped by a signal at step 40 with a checkpoint", null, default).Write(Run(3));

        var (code, output, error) = CliRunner.Run("sweep", "status", sweep);

        Assert.True(code == PisaApp.Ok, error);
        string Row(int task) => output.Split('\n').Single(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^\W*{task}\s*[│|]"));
        Assert.Matches(@"[│|]\s*done\s*[│|]", Row(0));
        Assert.Matches(@"[│|]\s*failed\s*[│|].*image 7 has no file", Row(1));
        Assert.Matches(@"[│|]\s*failed\s*[│|].*killed without an exit", Row(2));
        Assert.Matches(@"[│|]\s*preempted\s*[│|].*step 40", Row(3));
        Assert.Matches(@"[│|]\s*pending\s*[│|]", Row(4));
        Assert.Contains("5 tasks: 1 done, 2 failed, 1 pending, 1 preempted", output);
    }

    [Fact]
    public void Array_specs_join_runs_of_indices_into_ranges()
    {
        Assert.Equal("0-3,5,7-8%2", SlurmScripts.ArraySpec([0, 1, 2, 3, 5, 7, 8], 2));
        Assert.Equal("4", SlurmScripts.ArraySpec([4], null));
    }

    /// <summary>A plan over hand-made run folders (recipe "r", the given variants and seeds).</summary>
    private static void Plan(string sweep, string[] variants, int[] seeds)
    {
        var tasks = SweepPlan.Grid("r", variants, seeds);
        foreach (var task in tasks) Directory.CreateDirectory(Path.Combine(sweep, task.Run));
        new SweepPlan("r.yaml", "r", [], seeds, variants, variants[0], new TrainingData("builtin:shapes", false, 8, 4), tasks).Write(sweep);
    }

    /// <summary>A finished task: its resolved recipe, a last evaluation with the given AP and wall time, task.json done.</summary>
    private static void Finish(string sweep, string variant, int seed, double ap, double wall)
    {
        string run = Path.Combine(sweep, "runs", "r", variant, $"seed-{seed}");
        File.WriteAllText(Path.Combine(run, TrainingRuns.ResolvedRecipeFile), "recipe: r\ndetector: two-stage\n");
        var evaluation = new Dictionary<string, double>
        {
            ["step"] = 8, ["AP"] = ap, ["AP50"] = ap, ["AP75"] = ap, ["APs"] = ap, ["APm"] = ap, ["score_iou_pearson"] = 0.5, ["epoch"] = 1, ["wall_s"] = wall,
        };
        File.WriteAllLines(Path.Combine(run, "metrics.jsonl"), ["""{"step": 4, "loss": 1.0, "wall_s": 1}""", JsonSerializer.Serialize(evaluation)]);
        new TaskState(TaskPhase.Done, 1, 8, null, null, default).Write(run);
    }
}
