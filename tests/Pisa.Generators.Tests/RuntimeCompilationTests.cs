using Pisa.Compilation;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Generators.Tests;

/// <summary>A recipe that was not compiled in is generated, compiled, cached by content and run at run time.</summary>
public class RuntimeCompilationTests
{
    private static Recipe Load(string name, params string[] overrides)
    {
        var result = new RecipeLoader().LoadFile(RepoPaths.InRoot("recipes", name + ".yaml"), overrides);
        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        return result.Recipe!;
    }

    [Fact]
    public void A_recipe_compiles_at_run_time_then_loads_from_the_cache_and_its_pipelines_run()
    {
        string cache = Directory.CreateTempSubdirectory("pisa-cache-").FullName;
        try
        {
            var recipe = Load("pisa-sweep");
            var cold = new RuntimePipelines(new RecipeCompiler(cache)).Compile(recipe);
            Assert.False(cold.FromCache);
            Assert.Equal(4, cold.Pipelines.Count);
            Assert.Single(Directory.GetFiles(cache, "*.dll"));

            var warm = new RuntimePipelines(new RecipeCompiler(cache)).Compile(recipe);
            Assert.True(warm.FromCache);
            Assert.Equal(cold.Pipelines.Select(p => p.Name), warm.Pipelines.Select(p => p.Name));

            var pipeline = (ISamplePipeline)warm.Pipelines.Single(p => p.Variant == "PisaSweep_IsrK1_CarlBias0p2").Create();
            var batch = RandomBatch.TwoStage(seed: 9);
            var head = new LinearProbe(batch.NumClasses, seed: 10);
            using var scope = NewDisposeScope();
            var sample = pipeline.Sample(batch, head, new Generator(2));
            var (cls, pred) = head.Probe(sample.Rois);
            var losses = pipeline.Loss(sample, cls, pred);
            Assert.Equal(["loss_bbox", "loss_carl", "loss_cls"], losses.Keys.Order(StringComparer.Ordinal));
            Assert.All(losses.Values, l => Assert.True(float.IsFinite(l.ToSingle())));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void An_override_changes_the_cache_key_and_the_generated_constants()
    {
        string cache = Directory.CreateTempSubdirectory("pisa-cache-").FullName;
        try
        {
            var compiler = new RuntimePipelines(new RecipeCompiler(cache));
            compiler.Compile(Load("pisa-faster-rcnn"));
            var overridden = compiler.Compile(Load("pisa-faster-rcnn", "loss.carl.k=2"));
            Assert.False(overridden.FromCache);
            Assert.Equal(2, Directory.GetFiles(cache, "*.dll").Length);
            string source = RuntimePipelines.GenerateSources(Load("pisa-faster-rcnn", "loss.carl.k=2"))["Pisa.Pipelines.PisaFasterRcnn.g.cs"];
            Assert.Contains("carl: new global::Pisa.Kernels.ReweightSettings(2.0, 0.2)", source);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void Runtime_code_equals_build_code_but_for_the_cited_recipe_lines()
    {
        var (buildSources, _, _) = GeneratorHarness.Run(GeneratorHarness.ShippedRecipes());
        foreach (string name in new[] { "libra-faster-rcnn", "pisa-retinanet", "ohem-faster-rcnn" })
        {
            var recipe = Load(name);
            string hint = $"Pisa.Pipelines.{recipe.TypeName}.g.cs";
            string runtime = RuntimePipelines.GenerateSources(recipe)[hint];
            Assert.Equal(FrontDoorTests.Body(buildSources[hint]), FrontDoorTests.Body(runtime));
        }
    }
}
