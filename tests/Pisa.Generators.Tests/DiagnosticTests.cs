using System.Text;
using Microsoft.CodeAnalysis;

namespace Pisa.Generators.Tests;

/// <summary>Diagnostics of broken inputs, pinned as a snapshot; the release-tracking file lists every rule.</summary>
public class DiagnosticTests
{
    [Fact]
    public void The_broken_recipe_corpus_gives_these_build_diagnostics()
    {
        var shipped = GeneratorHarness.ShippedRecipes().ToArray();
        var text = new StringBuilder();
        foreach (string path in Directory.GetFiles(RepoPaths.InRoot("tests", "Pisa.Recipes.Tests", "Broken"), "*.yaml").Order(StringComparer.Ordinal))
        {
            // Each broken file sits beside the shipped recipes, as if it were one of them.
            string asShipped = Path.Combine(RepoPaths.InRoot("recipes"), Path.GetFileName(path));
            var (_, diagnostics, _) = GeneratorHarness.Run(shipped.Where(r => r.Path != asShipped).Append((asShipped, File.ReadAllText(path))));
            var ofThisFile = diagnostics.Where(d => d.Location.GetLineSpan().Path == asShipped).ToList();
            Assert.NotEmpty(ofThisFile);
            foreach (var d in ofThisFile.OrderBy(d => d.Location.GetLineSpan().StartLinePosition))
            {
                var where = d.Location.GetLineSpan();
                text.Append(Path.GetFileName(where.Path)).Append('(').Append(where.StartLinePosition.Line + 1).Append(',')
                    .Append(where.StartLinePosition.Character + 1).Append("): ").Append(d.Severity.ToString().ToLowerInvariant())
                    .Append(' ').Append(d.Id).Append(": ").Append(d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Replace(RepoPaths.Root, "<repo>")).Append('\n');
            }
        }
        Snapshot.Verify(text.ToString(), "broken-corpus", "txt");
    }

    private const string BrokenSweep = "recipe: my-sweep\nbase: pisa-faster-rcnn\nsample:\n  num: -3\nvariants:\n  loss.cls.isr.k: [1, 2]\n";
    private const string BrokenYaml = "recipe: my-net\nbase: retinanet\nloss: [\n";

    /// <summary>User code that names every pipeline the broken recipes would have generated, and calls them.</summary>
    private const string NamesTheBrokenPipelines = """
        using Pisa.Kernels.Pipeline;
        using Pisa.Recipes;

        [Recipe("x-rcnn", Base = "faster-rcnn")]
        [Sample(PosFraction = 1.5)]
        public partial class XRcnn;

        public static class User
        {
            public static string Names() => $"{Pisa.Pipelines.MySweep_IsrK2.Recipe} {Pisa.Pipelines.MySweep_IsrK2.Variant} {((IRecipePipeline)new XRcnn()).RecipeName}";

            public static object Run(int which)
            {
                ISamplePipeline point = new Pisa.Pipelines.MySweep_IsrK2();
                ISingleStagePipeline net = new Pisa.Pipelines.MyNet();
                return which switch
                {
                    0 => point.Sample(null!, null!, null!),
                    1 => net.Loss(null!, null!, null!),
                    _ => new XRcnn().Loss((TwoStageSample)null!, null!, null!),
                };
            }
        }
        """;

    [Fact]
    public void A_broken_recipe_is_one_located_error_even_where_code_names_the_pipelines_it_would_have_generated()
    {
        var recipes = GeneratorHarness.ShippedRecipes().Append(("/p/recipes/my-sweep.yaml", BrokenSweep)).Append(("/p/recipes/my-net.yaml", BrokenYaml));
        var (sources, generatorDiagnostics, compileDiagnostics) = GeneratorHarness.Run(recipes, NamesTheBrokenPipelines);

        Assert.Empty(compileDiagnostics); // no CS0234 / CS0246 / CS1061 cascade
        Assert.Equal(["Source0.cs(5,2): PISA0006", "my-net.yaml(3,8): PISA0001", "my-sweep.yaml(4,8): PISA0006"],
            generatorDiagnostics.Select(d => $"{Path.GetFileName(d.Location.GetLineSpan().Path)}({d.Location.GetLineSpan().StartLinePosition.Line + 1},{d.Location.GetLineSpan().StartLinePosition.Character + 1}): {d.Id}").Order(StringComparer.Ordinal));
        // One stand-in per variant point and none for the recipe itself, as a sound sweep would generate; none in the catalog.
        Assert.Contains("Pisa.Pipelines.MySweep_IsrK1.g.cs", sources.Keys);
        Assert.DoesNotContain("Pisa.Pipelines.MySweep.g.cs", sources.Keys);
        Assert.DoesNotContain("MySweep", sources["RecipeCatalog.g.cs"]);
    }

    [Fact]
    public void A_stand_in_names_its_recipe_and_throws_the_recipe_error_when_it_would_sample_or_compute_a_loss()
    {
        var recipes = GeneratorHarness.ShippedRecipes().Append(("/p/recipes/my-sweep.yaml", BrokenSweep)).Append(("/p/recipes/my-net.yaml", BrokenYaml));
        GeneratorHarness.NewDriver(recipes).RunGeneratorsAndUpdateCompilation(GeneratorHarness.NewCompilation(NamesTheBrokenPipelines), out var output, out _);
        using var image = new MemoryStream();
        Assert.True(output.Emit(image).Success);
        var context = new System.Runtime.Loader.AssemblyLoadContext("stand-ins", isCollectible: true);
        try
        {
            var user = context.LoadFromStream(new MemoryStream(image.ToArray())).GetType("User")!;
            Assert.Equal("my-sweep MySweep_IsrK2 x-rcnn", user.GetMethod("Names")!.Invoke(null, null));
            var run = user.GetMethod("Run")!;
            string Error(int which) => Assert.IsType<InvalidOperationException>(
                Assert.Throws<System.Reflection.TargetInvocationException>(() => run.Invoke(null, [which])).InnerException).Message;
            Assert.Equal("The recipe of MySweep_IsrK2 has errors, so it was not generated: my-sweep.yaml(4,8): error PISA0006: 'sample.num' is -3: it must be >= 1", Error(0));
            Assert.StartsWith("The recipe of MyNet has errors, so it was not generated: my-net.yaml(3,8): error PISA0001: ", Error(1));
            Assert.StartsWith("The recipe of XRcnn has errors, so it was not generated: Source0.cs(5,2): error PISA0006: 'sample.pos_fraction' is 1.5", Error(2));
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void Every_rule_is_listed_in_the_release_tracking_file_with_its_severity()
    {
        string unshipped = File.ReadAllText(RepoPaths.InRoot("generators", "Pisa.Generators", "AnalyzerReleases.Unshipped.md"));
        foreach (var descriptor in Diagnostics.All)
            Assert.Contains($"{descriptor.Id} | Pisa.Recipes | {descriptor.DefaultSeverity} |", unshipped);
    }
}
