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
    /// <param name="ColdGeneratorMs">The first run over every file (the generator's code not yet compiled by the JIT).</param>
    /// <param name="WarmColdGeneratorMs">A fresh driver over every file once the JIT has run: median of <see cref="Repeats"/>.</param>
    /// <param name="EditOneGeneratorMs">The incremental run after editing one leaf recipe (nothing inherits it): median of <see cref="Repeats"/>.</param>
    /// <param name="LeafEditParses">Recipe parse steps that ran after that edit (of <see cref="RecipeFiles"/>).</param>
    /// <param name="BaseEditParses">Recipe parse steps that ran after editing a base that <see cref="BaseDependents"/> recipes inherit (directly or through another).</param>
    public sealed record Result(int RecipeFiles, int Repeats, double ColdGeneratorMs, double WarmColdGeneratorMs, double EditOneGeneratorMs,
        int LeafEditParses, int BaseEditParses, int BaseDependents,
        double RuntimeCompileColdMs, double RuntimeCompileCachedMs, double GeneratedStepMs, double HandWrittenStepMs)
    {
        public double StepOverheadRatio => GeneratedStepMs / HandWrittenStepMs;
    }

    /// <summary>The build side alone: a generator run over many recipe files, cold and after one edit.</summary>
    public sealed record BuildResult(int RecipeFiles, int Repeats, double ColdMs, double WarmColdMs, double EditOneMs,
        int LeafEditParses, int BaseEditParses, int BaseDependents);

    public static Result Run(string recipesFolder, int files = 200, int steps = 15)
    {
        var build = RunBuild(recipesFolder, files);
        var clock = Stopwatch.StartNew();

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
        return new Result(files, build.Repeats, build.ColdMs, build.WarmColdMs, build.EditOneMs, build.LeafEditParses, build.BaseEditParses, build.BaseDependents,
            compileCold, compileCached, Median(generatedTimes), Median(handTimes));
    }

    /// <summary>
    /// The generator over <paramref name="files"/> recipe files as a build runs it: cold, then after editing one leaf
    /// recipe (timed, <paramref name="repeats"/> times), and how many recipe parse steps an edit re-runs, for a leaf
    /// and for a base that many recipes inherit (counted on a driver that tracks its steps, untimed).
    /// </summary>
    public static BuildResult RunBuild(string recipesFolder, int files = 200, int repeats = 5)
    {
        var shipped = Directory.GetFiles(recipesFolder, "*.yaml").Order(StringComparer.Ordinal).Select(p => (Path: p, Text: File.ReadAllText(p))).ToArray();
        var texts = ManyRecipes(shipped, files);
        var compilation = CSharpCompilation.Create("Bench", [], RecipeCompiler.References);
        var leaf = texts[texts.Length / 2];
        var baseRecipe = texts.First(t => Path.GetFileName(t.Path) == "faster-rcnn.yaml");

        var clock = Stopwatch.StartNew();
        NewDriver(texts, track: false).RunGenerators(compilation);
        double cold = clock.Elapsed.TotalMilliseconds;

        var warmCold = new List<double>();
        var editOne = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            clock.Restart();
            var driver = NewDriver(texts, track: false).RunGenerators(compilation);
            warmCold.Add(clock.Elapsed.TotalMilliseconds);
            driver = Edit(driver, leaf, "{ loss_weight: ", $"{{ loss_weight: {i + 1}");
            clock.Restart();
            driver.RunGenerators(compilation);
            editOne.Add(clock.Elapsed.TotalMilliseconds);
        }

        var tracked = NewDriver(texts, track: true).RunGenerators(compilation);
        int leafParses = ParsesRun(Edit(tracked, leaf, "{ loss_weight: ", "{ loss_weight: 1").RunGenerators(compilation));
        int baseParses = ParsesRun(Edit(tracked, baseRecipe, "test_proposals: 1000", "test_proposals: 999").RunGenerators(compilation));
        int dependents = Inheriting(texts, "faster-rcnn");
        return new BuildResult(texts.Length, repeats, cold, Median(warmCold), Median(editOne), leafParses, baseParses, dependents);
    }

    /// <summary>How many of the files inherit <paramref name="baseName"/>, directly or through other files (bases by file name).</summary>
    private static int Inheriting(IEnumerable<InMemoryAdditionalText> texts, string baseName)
    {
        var baseOf = texts.ToDictionary(t => Path.GetFileNameWithoutExtension(t.Path), t => RecipeBases.NameIn(t.GetText()!.ToString(), t.Path));
        bool Inherits(string name, int depth) =>
            depth < baseOf.Count && baseOf.GetValueOrDefault(name) is string parent && (parent == baseName || Inherits(parent, depth + 1));
        return baseOf.Keys.Count(name => Inherits(name, 0));
    }

    private static GeneratorDriver NewDriver(IEnumerable<AdditionalText> texts, bool track) => CSharpGeneratorDriver.Create(
        generators: [new RecipeGenerator().AsSourceGenerator()], additionalTexts: texts, parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    /// <summary>A value edit (a comment would be served from the cache by text, so this changes the recipe).</summary>
    private static GeneratorDriver Edit(GeneratorDriver driver, InMemoryAdditionalText file, string from, string to)
    {
        string text = file.GetText()!.ToString();
        if (!text.Contains(from, StringComparison.Ordinal)) throw new InvalidOperationException($"{file.Path} has no '{from}'");
        return driver.ReplaceAdditionalText(file, new InMemoryAdditionalText(file.Path, text.Replace(from, to, StringComparison.Ordinal)));
    }

    /// <summary>Recipe parse steps that ran (were not served from the cache) in the driver's last run.</summary>
    private static int ParsesRun(GeneratorDriver driver) =>
        driver.GetRunResult().Results.Single().TrackedSteps.TryGetValue(TrackingNames.YamlRecipes, out var steps)
            ? steps.Count(step => step.Outputs.Any(o => o.Reason != IncrementalStepRunReason.Cached))
            : 0;

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
