using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pisa.Compilation;
using Pisa.Generators;
using Pisa.Kernels.Pipeline;
using Pisa.Kernels.Reference;
using Pisa.Recipes;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Cli.Bench;

/// <summary>
/// <c>pisa bench generator</c>: what the generator costs — a build over many recipe files (cold, then after editing
/// one), runtime compilation of one recipe (cold, then from the cache) — and what a generated pipeline costs per step
/// against the same kernels called by hand (<see cref="ExamplePisaTwoStagePipeline"/>), measured side by side.
/// </summary>
public static class GeneratorBench
{
    public sealed record Result(int RecipeFiles, double ColdGeneratorMs, double EditOneGeneratorMs, double RuntimeCompileColdMs,
        double RuntimeCompileCachedMs, double GeneratedStepMs, double HandWrittenStepMs)
    {
        public double StepOverheadRatio => GeneratedStepMs / HandWrittenStepMs;
    }

    public static Result Run(string recipesFolder, int files = 200, int steps = 15)
    {
        var shipped = Directory.GetFiles(recipesFolder, "*.yaml").Order(StringComparer.Ordinal).Select(p => (Path: p, Text: File.ReadAllText(p))).ToArray();
        var texts = ManyRecipes(shipped, files);

        // A build: the generator over N recipe files, then an incremental run after one edit.
        var compilation = CSharpCompilation.Create("Bench", [], RecipeCompiler.References);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(generators: [new RecipeGenerator().AsSourceGenerator()], additionalTexts: texts,
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest));
        var clock = Stopwatch.StartNew();
        driver = driver.RunGenerators(compilation);
        double cold = clock.Elapsed.TotalMilliseconds;
        var victim = texts[texts.Length / 2];
        driver = driver.ReplaceAdditionalText(victim, new InMemoryAdditionalText(victim.Path, victim.GetText()!.ToString().Replace("{ loss_weight: ", "{ loss_weight: 1")));
        clock.Restart();
        driver.RunGenerators(compilation);
        double editOne = clock.Elapsed.TotalMilliseconds;

        // Runtime compilation of one recipe: cold (fresh cache), then from the cache.
        string cache = Directory.CreateTempSubdirectory("pisa-bench-cache-").FullName;
        RuntimePipelineSet compiled;
        double compileCold, compileCached;
        try
        {
            var recipe = new RecipeLoader().LoadFile(Path.Combine(recipesFolder, "pisa-faster-rcnn.yaml")).Recipe
                ?? throw new PisaUserException("pisa bench generator: recipes/pisa-faster-rcnn.yaml does not load");
            clock.Restart();
            new RuntimePipelines(new RecipeCompiler(cache)).Compile(recipe);
            compileCold = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            compiled = new RuntimePipelines(new RecipeCompiler(cache)).Compile(recipe);
            compileCached = clock.Elapsed.TotalMilliseconds;
        }
        finally
        {
            try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
        }

        // Per-step cost: the generated PISA pipeline vs the same kernel calls written by hand, interleaved.
        var generated = (ISamplePipeline)compiled.Pipelines.Single().Create();
        var byHand = new ExamplePisaTwoStagePipeline();
        var (input, head) = StepWorkload();
        var generatedTimes = new List<double>();
        var handTimes = new List<double>();
        for (int i = 0; i < steps + 2; i++)
        {
            double g = TimeStep(generated, input, head), h = TimeStep(byHand, input, head);
            if (i < 2) continue; // warm-up
            generatedTimes.Add(g);
            handTimes.Add(h);
        }
        return new Result(files, cold, editOne, compileCold, compileCached, Median(generatedTimes), Median(handTimes));
    }

    internal static double TimeStep(ISamplePipeline pipeline, TwoStageSampleInput input, IDetectorHeadProbe head)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var sample = pipeline.Sample(input, head, new Generator(7));
        var (cls, pred) = head.Probe(sample.Rois);
        var losses = pipeline.Loss(sample, cls, pred);
        _ = losses["loss_cls"].ToSingle(); // one sync at the end of the step, so the time covers the whole step
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Copies of the shipped recipes under new names, so a "project" has <paramref name="count"/> recipe files.</summary>
    private static InMemoryAdditionalText[] ManyRecipes((string Path, string Text)[] shipped, int count)
    {
        var texts = shipped.Select(r => new InMemoryAdditionalText(r.Path, r.Text)).ToList();
        string folder = Path.GetDirectoryName(shipped[0].Path)!;
        var leaves = shipped.Where(r => !r.Text.Contains("variants:")).ToArray();
        for (int i = 0; texts.Count < count; i++)
        {
            var (path, text) = leaves[i % leaves.Length];
            string name = Path.GetFileNameWithoutExtension(path);
            string copy = $"{name}-copy{i}";
            // Each copy inherits its original, so base resolution is part of the work.
            string body = $"recipe: {copy}\nbase: {name}\nloss:\n  cls: {{ loss_weight: {1 + i % 5}.0 }}\n";
            texts.Add(new InMemoryAdditionalText(Path.Combine(folder, copy + ".yaml"), body));
        }
        return [.. texts];
    }

    internal static (TwoStageSampleInput Input, IDetectorHeadProbe Head) StepWorkload(int images = 2, int proposals = 2000, int gts = 15, int classes = 80)
    {
        var g = new Generator(5);
        Tensor Boxes(long count)
        {
            var xy = rand(images, count, 2, generator: g) * 1000;
            var wh = rand(images, count, 2, generator: g) * 300 + 16;
            return cat([xy, xy + wh], -1);
        }
        var gt = Boxes(gts);
        var around = gt.repeat(1, proposals * 7 / 10 / gts, 1);
        around = around + randn(around.shape, generator: g) * 10;
        var all = cat([around, Boxes(proposals - around.shape[1])], 1);
        all = stack([all[.., .., 0], all[.., .., 1], maximum(all[.., .., 2], all[.., .., 0] + 1), maximum(all[.., .., 3], all[.., .., 1] + 1)], -1);
        var input = new TwoStageSampleInput(all, ones(images, all.shape[1], ScalarType.Bool), gt,
            randint(classes, [images, gts], generator: g, dtype: ScalarType.Int64), ones(images, gts, ScalarType.Bool),
            tensor(new long[] { 800, 1333, 800, 1333 }).view(2, 2), classes);
        return (input, new RandomLinearProbe(classes));
    }

    internal static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }

    /// <summary>A fixed random linear map of the RoI coordinates standing in for a box head.</summary>
    private sealed class RandomLinearProbe(int classes) : IDetectorHeadProbe
    {
        private readonly Tensor _cls = randn(4, classes + 1, generator: new Generator(1)) * 0.01;
        private readonly Tensor _box = randn(4, 4 * classes, generator: new Generator(2)) * 0.0001;

        public (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois)
        {
            var boxes = rois[TensorIndex.Colon, TensorIndex.Slice(1)];
            return (boxes.matmul(_cls), boxes.matmul(_box));
        }
    }
}
