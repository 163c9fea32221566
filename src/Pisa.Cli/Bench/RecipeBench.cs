using Pisa.Compilation;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Cli.Bench;

/// <summary>
/// <c>pisa bench recipe FILE [--variant NAME] [--set k=v]</c>: any recipe file, compiled at run time through the
/// generator, timed per step on the COCO-like step workload (two-stage: sample + loss; single-stage: loss over anchors).
/// </summary>
public static class RecipeBench
{
    public sealed record Result(string Pipeline, bool FromCache, double CompileMs, double StepMs, IReadOnlyDictionary<string, float> Losses);

    /// <param name="cpuClock">time with the calling thread's CPU clock (see <see cref="StageClock"/>) instead of wall time.</param>
    public static Result Run(Recipe recipe, Recipe selected, bool cpuClock = false, int steps = 15)
    {
        var compiled = RuntimePipelines.Default.Compile(recipe);
        var pipeline = compiled.Select(selected).Create();
        var times = new List<double>();
        IReadOnlyDictionary<string, float> losses = new Dictionary<string, float>();
        for (int i = 0; i < steps + 2; i++)
        {
            var (ms, values) = pipeline switch
            {
                ISamplePipeline twoStage => TwoStageStep(twoStage, cpuClock),
                ISingleStagePipeline singleStage => SingleStageStep(singleStage, cpuClock),
                _ => throw new InvalidOperationException($"{pipeline.GetType()} is neither pipeline kind"),
            };
            if (i >= 2) times.Add(ms);
            losses = values;
        }
        return new Result(selected.TypeName, compiled.FromCache, compiled.Elapsed.TotalMilliseconds, GeneratorBench.Median(times), losses);
    }

    private static (double, IReadOnlyDictionary<string, float>) TwoStageStep(ISamplePipeline pipeline, bool cpuClock)
    {
        var (input, head) = GeneratorBench.StepWorkload();
        using var scope = NewDisposeScope();
        var clock = new StageClock(cpuClock);
        var sample = pipeline.Sample(input, head, new Generator(7));
        var (cls, pred) = head.Probe(sample.Rois);
        var losses = pipeline.Loss(sample, cls, pred).ToDictionary(l => l.Key, l => l.Value.ToSingle());
        return (clock.Ms, losses);
    }

    private static (double, IReadOnlyDictionary<string, float>) SingleStageStep(ISingleStagePipeline pipeline, bool cpuClock, int images = 2, int anchors = 20000, int gts = 15, int classes = 80)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        Tensor Boxes(long count)
        {
            var xy = rand(images, count, 2, generator: g) * 1000;
            return cat([xy, xy + rand(images, count, 2, generator: g) * 300 + 16], -1);
        }
        var input = new SingleStageInput(Boxes(anchors), ones(images, anchors, ScalarType.Bool), Boxes(gts),
            randint(classes, [images, gts], generator: g, dtype: ScalarType.Int64), ones(images, gts, ScalarType.Bool), classes);
        var cls = randn(images, anchors, classes, generator: g) - 4;
        var pred = randn(images, anchors, 4, generator: g) * 0.1;
        var clock = new StageClock(cpuClock);
        var losses = pipeline.Loss(input, cls, pred).ToDictionary(l => l.Key, l => l.Value.ToSingle());
        return (clock.Ms, losses);
    }
}
