using Pisa.Cli.Bench;
using Spectre.Console.Cli;
using static Pisa.Cli.Commands.Bench.BenchSupport;
using static TorchSharp.torch;

namespace Pisa.Cli.Commands.Bench;

/// <summary><c>pisa bench generator</c>: the generator's cold and edit times over the shipped recipes, run-time compile costs, and a generated step against the hand-written one.</summary>
public sealed class BenchGeneratorCommand : Command<BenchGeneratorCommand.Settings>
{
    public sealed class Settings : BenchSettings;

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        settings.RequireWallClock("generator");
        settings.ApplyThreads();
        var r = GeneratorBench.Run(Path.Combine(RepoRoot(), "recipes"));
        Console.WriteLine(F($"pisa bench generator: libtorch threads {get_num_threads()}"));
        Console.WriteLine(F($"generator over {r.RecipeFiles} recipe files: cold {r.ColdGeneratorMs:0} ms (first run), {r.WarmColdGeneratorMs:0} ms (fresh driver, median of {r.Repeats}); after editing one leaf recipe {r.EditOneGeneratorMs:0} ms (median of {r.Repeats})"));
        Console.WriteLine(F($"recipe parse steps re-run: {r.LeafEditParses} of {r.RecipeFiles} after editing a leaf, {r.BaseEditParses} after editing faster-rcnn ({r.BaseDependents} recipes inherit it, directly or not)"));
        Console.WriteLine(F($"run-time compilation of pisa-faster-rcnn: cold {r.RuntimeCompileColdMs:0} ms, from the cache {r.RuntimeCompileCachedMs:0.0} ms"));
        Console.WriteLine(F($"one PISA step (2 images, 2000 proposals, 80 classes), median: generated {r.GeneratedStepMs:0.00} ms, kernels by hand {r.HandWrittenStepMs:0.00} ms, ratio {r.StepOverheadRatio:0.000}"));
        settings.WriteJson(r);
        return PisaApp.Ok;
    }
}
