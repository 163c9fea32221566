using System.ComponentModel;
using System.Globalization;
using Pisa.Compilation;
using Pisa.Recipes;
using Pisa.Training.Data.Shapes;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using Pisa.Training.Sweeps;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Sweep;

/// <summary>
/// <c>pisa sweep plan R.yaml [--variant all|NAME…] [--seeds 0,1,2] [--set k=v]… [--data …] --out DIR</c>: validates the
/// recipe (every point compiled) and writes the sweep folder: one run folder per (variant point, seed) holding its
/// resolved recipe and data, then <c>sweep.json</c>. Nothing runs; a broken recipe fails here, located.
/// </summary>
public sealed class SweepPlanCommand : Command<SweepPlanCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RECIPE>")]
        [Description("The recipe file.")]
        public string Recipe { get; init; } = "";

        [CommandOption("--variant <NAME>")]
        [Description("Variant points to run (repeatable; full names or the part after the recipe's type name), or 'all' (the default).")]
        public string[] Variant { get; init; } = [];

        [CommandOption("--seeds <LIST>")]
        [Description("Comma-separated seeds (train.seed); each variant point trains once per seed. Default: 0.")]
        public string Seeds { get; init; } = "0";

        [CommandOption("--set <KEY=VALUE>")]
        [Description("Override a value for every task, e.g. --set train.epochs=2 (repeatable; validated like the recipe).")]
        public string[] Set { get; init; } = [];

        [CommandOption("--data <PATH>")]
        [Description("builtin:shapes, a COCO folder or an instances file; default: the recipe's train.data. Every node must see the same path.")]
        public string? Data { get; init; }

        [CommandOption("--train-images <N>")]
        [Description("builtin:shapes: training images (default 2000).")]
        public int? TrainImages { get; init; }

        [CommandOption("--val-images <N>")]
        [Description("builtin:shapes: validation images (default 200).")]
        public int? ValImages { get; init; }

        [CommandOption("--baseline <NAME>")]
        [Description("The variant the report's differences are taken against (default: the first).")]
        public string? Baseline { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("The sweep folder to create (on a file system every node shares, for Slurm).")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Out is null) throw new PisaUserException("pisa sweep plan: give the sweep folder with --out DIR");
        var sweep = new SweepFolder(settings.Out);
        if (File.Exists(sweep.PlanFile)) throw new PisaUserException($"{sweep.PlanFile}: already planned (run, submit or report it, or plan into another folder)");
        int[] seeds = ParseSeeds(settings.Seeds);

        var loaded = RecipeCommandSupport.Load(settings.Recipe, settings.Set);
        var chosen = Choose(loaded, settings.Variant);
        string[] variants = chosen.Select(VariantName).ToArray();
        string baseline = settings.Baseline is null ? variants[0] : VariantName(RecipeCommandSupport.Select(loaded, settings.Baseline));
        if (!variants.Contains(baseline)) throw new PisaUserException($"--baseline {settings.Baseline}: not among the sweep's variants ({string.Join(", ", variants)})");
        try
        {
            RuntimePipelines.Default.Compile(loaded.Recipe!);
        }
        catch (RecipeCompilationException ex)
        {
            throw new PisaUserException(ex.Message);
        }
        var defaults = new ShapesOptions();
        // An absolute path: tasks run from other working folders (and, on a cluster, other nodes).
        string source = settings.Data ?? loaded.Recipe!.Train.Data;
        if (!source.StartsWith("builtin:", StringComparison.Ordinal)) source = Path.GetFullPath(source);
        var data = new TrainingData(source, false, settings.TrainImages ?? defaults.TrainCount, settings.ValImages ?? defaults.ValCount);
        RequireData(data);

        // Each seed is the recipe loaded again with train.seed set, so the resolved recipe in the run folder says which.
        var bySeed = seeds.ToDictionary(s => s, s => RecipeCommandSupport.Load(settings.Recipe, [.. settings.Set, $"train.seed={s}"]));
        var tasks = SweepPlan.Grid(loaded.Recipe!.Name, variants, seeds);
        foreach (var task in tasks)
        {
            var seeded = bySeed[task.Seed];
            var recipe = seeded.Points.Count == 0 ? seeded.Recipe! : RecipeCommandSupport.Select(seeded, task.Variant);
            string runDirectory = sweep.RunDirectory(task);
            Directory.CreateDirectory(runDirectory);
            TrainingRuns.Prepare(RunFolder.Open(runDirectory), recipe, data);
        }
        Directory.CreateDirectory(sweep.LogsDirectory);
        var plan = new SweepPlan(Path.GetFullPath(settings.Recipe), loaded.Recipe!.Name, settings.Set, seeds, variants, baseline, data, tasks);
        plan.Write(sweep.Path);

        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"planned {tasks.Count} tasks ({variants.Length} variant(s) x {seeds.Length} seed(s)) in {sweep.Path}"));
        foreach (var task in tasks) Console.Out.WriteLine($"  task {task.Index}: {task.Variant} seed {task.Seed} -> {task.Run}");
        Console.Out.WriteLine($"next: pisa sweep run {settings.Out} --local   or   pisa sweep submit {settings.Out} --slurm");
        return PisaApp.Ok;
    }

    private static string VariantName(Recipe recipe) => recipe.Variant ?? "default";

    private static IReadOnlyList<Recipe> Choose(RecipeLoadResult loaded, string[] names)
    {
        if (names.Length == 0 || names is ["all"]) return loaded.Points.Count > 0 ? loaded.Points.ToList() : [loaded.Recipe!];
        var chosen = names.Select(n => RecipeCommandSupport.Select(loaded, n)).ToList();
        if (chosen.Select(VariantName).Distinct().Count() != chosen.Count) throw new PisaUserException("--variant: a variant is named twice");
        return chosen;
    }

    private static int[] ParseSeeds(string text)
    {
        var seeds = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int seed) ? seed
                : throw new PisaUserException($"--seeds {text}: '{s}' is not a seed (a whole number, 0 or more)"))
            .ToArray();
        if (seeds.Length == 0) throw new PisaUserException("--seeds: give at least one seed");
        if (seeds.Distinct().Count() != seeds.Length) throw new PisaUserException($"--seeds {text}: a seed is listed twice (two tasks would share a run folder)");
        return seeds;
    }

    private static void RequireData(TrainingData data)
    {
        if (data.Data.StartsWith("builtin:", StringComparison.Ordinal))
        {
            if (data.Data != ShapesOptions.SourceName) throw new PisaUserException($"--data {data.Data}: the built-in data set is {ShapesOptions.SourceName}");
            if (data.ShapesTrainCount < 1 || data.ShapesValCount < 1) throw new PisaUserException("--train-images and --val-images must be at least 1");
            return;
        }
        if (!File.Exists(data.Data) && !Directory.Exists(data.Data))
            throw new PisaUserException($"--data {data.Data}: no such file or folder (expected builtin:shapes, a COCO folder or an instances JSON file)");
    }
}
