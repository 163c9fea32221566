using System.ComponentModel;
using System.Globalization;
using System.Text;
using Pisa.Compilation;
using Pisa.Evaluation.Coco;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary>
/// <c>pisa train &lt;recipe&gt; [--variant NAME|all] [--set k=v]… [--data PATH|builtin:shapes] [--skip-bad] [--resume DIR]
/// [--device cpu|cuda] [--max-iters N] [--detect-anomaly] [--prefetch N] [--out runs]</c>: trains, evaluates on the val split after each epoch and writes
/// the run folder; <c>--variant all</c> trains every variant point and ends with a comparison table.
/// </summary>
public sealed class TrainCommand : Command<TrainCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[RECIPE]")]
        [Description("The recipe file (not needed with --resume: the run folder holds its resolved recipe).")]
        public string? Recipe { get; init; }

        [CommandOption("--variant <NAME>")]
        [Description("Train one variant point (its full name or the part after the recipe's type name), or 'all'.")]
        public string? Variant { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("Override a value, e.g. --set train.epochs=2 (repeatable; validated like the recipe).")]
        public string[] Set { get; init; } = [];

        [CommandOption("--data <PATH>")]
        [Description("builtin:shapes, a COCO folder (annotations/instances_{train,val}.json, {train,val}/) or an instances file; default: the recipe's train.data.")]
        public string? Data { get; init; }

        [CommandOption("--skip-bad")]
        [Description("Skip bad COCO images and annotations (each reported) instead of stopping.")]
        public bool SkipBad { get; init; }

        [CommandOption("--resume <DIR>")]
        [Description("Continue the run in DIR from its last checkpoint.")]
        public string? Resume { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("cpu or cuda (default: cuda when available).")]
        public string? Device { get; init; }

        [CommandOption("--max-iters <N>")]
        [Description("Stop with a checkpoint once the run reaches N iterations in all (resume later with --resume).")]
        public long? MaxIters { get; init; }

        [CommandOption("--detect-anomaly")]
        [Description("Check every step for a non-finite loss or gradient and re-run that step under autograd's anomaly mode, which names the operation (slower: one host read per step).")]
        public bool DetectAnomaly { get; init; }

        [CommandOption("--prefetch <N>")]
        [Description("Training batches prepared ahead on a background thread while the model trains (default 2; 0 = none). The batches are the same either way.")]
        public int Prefetch { get; init; } = 2;

        [CommandOption("--out <DIR>")]
        [Description("The runs folder.")]
        public string Out { get; init; } = "runs";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            // The first Ctrl-C stops after the current iteration with a checkpoint; a second one kills the process.
            if (stop.IsCancellationRequested) return;
            e.Cancel = true;
            stop.Cancel();
            Console.Error.WriteLine("stopping after this iteration (a checkpoint will be written; Ctrl-C again to kill)");
        };
        Console.CancelKeyPress += onCtrlC;
        try
        {
            var options = new TrainingOptions(Device: settings.Device, MaxIterations: settings.MaxIters, DetectAnomaly: settings.DetectAnomaly, Prefetch: Math.Max(0, settings.Prefetch));
            return settings.Resume is not null ? Resume(settings, options, stop.Token) : Train(settings, options, stop.Token);
        }
        catch (Exception ex) when (ex is DatasetException or CocoFormatException or TrainingException or RecipeCompilationException)
        {
            throw new PisaUserException(ex.Message);
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }

    private static int Train(Settings settings, TrainingOptions options, CancellationToken stop)
    {
        if (settings.Recipe is null) throw new PisaUserException("pisa train: give a recipe file, or --resume DIR (see 'pisa train --help').");
        var loaded = RecipeCommandSupport.Load(settings.Recipe, settings.Set);
        var recipes = Select(loaded, settings.Variant, settings.Recipe);
        var pipelines = RuntimePipelines.Default.Compile(loaded.Recipe!);
        var data = new TrainingData(settings.Data ?? loaded.Recipe!.Train.Data, settings.SkipBad, new ShapesOptions().TrainCount, new ShapesOptions().ValCount);
        var (train, val) = data.Load();
        foreach (string warning in train.Warnings.Concat(val == train ? [] : val.Warnings)) Console.Error.WriteLine($"warning: {warning}");

        var results = new List<(Recipe Recipe, TrainingResult Result)>();
        foreach (var recipe in recipes)
        {
            var result = Observed(recipe.Variant ?? recipe.Name, observe =>
                TrainingRuns.Start(recipe, pipelines.Select(recipe), data, train, val, options, settings.Out, observe, stop));
            results.Add((recipe, result));
            if (stop.IsCancellationRequested) break; // Ctrl-C ends the sweep; --max-iters caps each point
        }
        if (results.Count > 1) Compare(Path.Combine(settings.Out, loaded.Recipe!.Name), results);
        return PisaApp.Ok;
    }

    private static int Resume(Settings settings, TrainingOptions options, CancellationToken stop)
    {
        if (settings.Recipe is not null || settings.Variant is not null || settings.Set.Length > 0 || settings.Data is not null)
            throw new PisaUserException("pisa train --resume DIR: the run folder fixes the recipe, variant, overrides and data; give none of them.");
        var (recipe, pipeline) = RunRecipe.Load(settings.Resume!);
        var (train, val) = TrainingData.Read(settings.Resume!).Load();
        Observed(RunFolder.Open(settings.Resume!).Variant, observe => TrainingRuns.Resume(settings.Resume!, recipe, pipeline, train, val, options, observe, stop));
        return PisaApp.Ok;
    }

    /// <summary>The recipe itself, one variant point, or every point.</summary>
    private static IReadOnlyList<Recipe> Select(RecipeLoadResult loaded, string? variant, string path)
    {
        if (variant == "all") return loaded.Points.Count > 0 ? loaded.Points.ToList() : [loaded.Recipe!];
        if (variant is null && loaded.Points.Count > 0)
            throw new PisaUserException($"{path}: the recipe is a sweep of {loaded.Points.Count} variant points; pick one with --variant NAME or train them all with --variant all ('pisa variants {path}' lists them).");
        return [RecipeCommandSupport.Select(loaded, variant)];
    }

    /// <summary>Runs one training with progress on the console: Spectre bars on a terminal, key=value lines otherwise.</summary>
    internal static TrainingResult Observed(string name, Func<Action<Trainer>, TrainingResult> run)
    {
        TrainingResult result;
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            result = AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    ProgressTask? task = null;
                    return run(trainer =>
                    {
                        trainer.Progress += p =>
                        {
                            task ??= ctx.AddTask(name, maxValue: p.TotalSteps);
                            task.Value = p.Step;
                            task.Description = $"{Markup.Escape(name)} epoch {p.Epoch}/{p.Epochs} it {p.Iteration}/{p.IterationsPerEpoch} loss {p.Losses.GetValueOrDefault("loss"):0.000}";
                        };
                        trainer.Message += m => AnsiConsole.MarkupLine(Markup.Escape(m));
                    });
                });
        }
        else
        {
            result = run(trainer =>
            {
                trainer.Progress += p => Console.Out.WriteLine(ProgressLine(name, p));
                trainer.Message += m => Console.Out.WriteLine($"run={name} {m}");
            });
        }
        Console.Out.WriteLine(Summary(name, result));
        return result;
    }

    private static string ProgressLine(string name, TrainingProgress p)
    {
        double perStep = p.Elapsed.TotalSeconds / Math.Max(1, p.Step);
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"run={name} epoch={p.Epoch}/{p.Epochs} iter={p.Iteration}/{p.IterationsPerEpoch} step={p.Step}/{p.TotalSteps}"));
        foreach (var (key, value) in p.Losses) text.Append(CultureInfo.InvariantCulture, $" {key}={value:0.#####}");
        text.Append(CultureInfo.InvariantCulture, $" elapsed={p.Elapsed.TotalSeconds:0}s eta={(p.TotalSteps - p.Step) * perStep:0}s");
        return text.ToString();
    }

    private static string Summary(string name, TrainingResult result)
    {
        string state = result.Completed ? "done" : "stopped";
        string stats = result.Validation is { } v ? " " + v.Describe() : "";
        return string.Create(CultureInfo.InvariantCulture, $"run={name} {state} step={result.Step} wall={result.Elapsed.TotalSeconds:0}s{stats} folder={result.RunDirectory}");
    }

    /// <summary>The variant comparison (<see cref="RunComparison"/>): printed, and written as CSV, Markdown and a bar chart beside the runs.</summary>
    private static void Compare(string recipeDirectory, IReadOnlyList<(Recipe Recipe, TrainingResult Result)> results)
    {
        var runs = results.Select(r => RunSummary.Read(r.Result.RunDirectory)).ToList();
        RunComparison.Print(runs);
        RunComparison.Write(runs, recipeDirectory, "comparison");
        Plots.Bars(Path.Combine(recipeDirectory, "comparison.png"), "val AP50 per variant", "AP50",
            runs.Select(r => (r.Variant, r.Validation?.GetValueOrDefault("AP50") ?? 0)).ToList());
    }
}
