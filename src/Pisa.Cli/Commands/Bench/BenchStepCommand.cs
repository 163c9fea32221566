using System.ComponentModel;
using Pisa.Cli.Bench;
using Pisa.Training.Engine;
using Spectre.Console.Cli;
using static Pisa.Cli.Commands.Bench.BenchSupport;
using static TorchSharp.torch;

namespace Pisa.Cli.Commands.Bench;

/// <summary><c>pisa bench step [R.yaml]</c>: a training step's time by phase, for one recipe or every shipped one, and each recipe's ratio to faster-rcnn.</summary>
public sealed class BenchStepCommand : Command<BenchStepCommand.Settings>
{
    private static readonly string[] ShippedRecipes = ["faster-rcnn", "libra-faster-rcnn", "ohem-faster-rcnn", "pisa-faster-rcnn", "retinanet", "pisa-retinanet"];

    public sealed class Settings : BenchRecipeSettings
    {
        [CommandArgument(0, "[RECIPE]")]
        [Description("The recipe to profile beside faster-rcnn (default: every shipped recipe).")]
        public string? Recipe { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        settings.RequireWallClock("step");
        settings.ApplyThreads();
        var files = RecipeFiles(settings.Recipe);
        var (train, _) = TrainingData.Builtin().Load();
        var results = new List<StepBench.Result>();
        Console.WriteLine(F($"pisa bench step: one training step on builtin:shapes (batch and sizes of each recipe), libtorch threads {get_num_threads()}, wall clock, medians of 8 steps after 2 warm-up (ms, share)"));
        foreach (string file in files)
        {
            var loaded = RecipeCommandSupport.Load(file, settings.Set);
            var r = StepBench.Run(RecipeCommandSupport.Select(loaded, settings.Variant), train);
            results.Add(r);
            double ratio = r.StepMs / results[0].StepMs;
            Console.WriteLine(F($"{r.Recipe}: step {r.StepMs:0.0} ms, x{ratio:0.00} faster-rcnn; ") + string.Join(", ", r.Counts.Select(c => F($"{c.Key} {c.Value}"))));
            foreach (var (phase, ms) in r.PhaseMs)
                Console.WriteLine(F($"  {phase,-24} {ms,8:0.0} ms {100 * ms / r.PhaseMs.Values.Sum(),5:0.0}%"));
        }
        settings.WriteJson(new { threads = get_num_threads(), results });
        return PisaApp.Ok;
    }

    /// <summary>faster-rcnn (every ratio's denominator) first, then the given recipe or the other shipped ones.</summary>
    private static List<string> RecipeFiles(string? recipe)
    {
        string folder = Path.Combine(RepoRoot(), "recipes");
        string Shipped(string name) => Path.Combine(folder, name + ".yaml");
        if (recipe is not null && !File.Exists(recipe)) throw new PisaUserException($"pisa bench step: recipe not found: {recipe}");
        var files = new List<string> { Shipped(ShippedRecipes[0]) };
        if (recipe is null) files.AddRange(ShippedRecipes.Skip(1).Select(Shipped));
        else if (Path.GetFileName(recipe) != "faster-rcnn.yaml") files.Add(recipe);
        return files;
    }
}
