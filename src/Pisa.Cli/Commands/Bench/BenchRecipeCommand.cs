using System.ComponentModel;
using Pisa.Cli.Bench;
using Spectre.Console.Cli;
using static Pisa.Cli.Commands.Bench.BenchSupport;
using static TorchSharp.torch;

namespace Pisa.Cli.Commands.Bench;

/// <summary><c>pisa bench recipe R.yaml [--variant NAME] [--set k=v]</c>: a recipe compiled at run time, and one step of its pipeline.</summary>
public sealed class BenchRecipeCommand : Command<BenchRecipeCommand.Settings>
{
    public sealed class Settings : BenchRecipeSettings
    {
        [CommandArgument(0, "<RECIPE>")]
        [Description("The recipe file to compile at run time and time per step.")]
        public string Recipe { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        settings.ApplyThreads();
        var loaded = RecipeCommandSupport.Load(settings.Recipe, settings.Set);
        var selected = RecipeCommandSupport.Select(loaded, settings.Variant);
        var r = RecipeBench.Run(loaded.Recipe!, selected, settings.CpuClock);
        Console.WriteLine(F($"pisa bench recipe: libtorch threads {get_num_threads()}, {settings.Clock} clock"));
        Console.WriteLine(F($"{r.Pipeline} compiled at run time in {r.CompileMs:0} ms{(r.FromCache ? " (from the cache)" : "")}; one step, median of 15: {r.StepMs:0.00} ms"));
        Console.WriteLine("losses of the last step: " + string.Join(", ", r.Losses.Select(l => F($"{l.Key}={l.Value:0.0000}"))));
        settings.WriteJson(r);
        return PisaApp.Ok;
    }
}
