using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pisa.Compilation;

namespace Pisa.Generators.Tests;

/// <summary>
/// The generator's steps are cached the way an IDE needs (named tracked steps, as in Mapperly's tests):
/// an identical run is all cached, an edit to one recipe regenerates only that recipe's pipelines,
/// and an edit to unrelated C# regenerates nothing.
/// </summary>
public class IncrementalTests
{
    private readonly InMemoryAdditionalText[] _recipes =
        GeneratorHarness.ShippedRecipes().Select(r => new InMemoryAdditionalText(r.Path, r.Text)).ToArray();

    private readonly CSharpCompilation _compilation =
        GeneratorHarness.NewCompilation("namespace Consumer; public class Unrelated { public int A => 1; }");

    private GeneratorDriver FirstRun() => CSharpGeneratorDriver.Create(
        generators: [new RecipeGenerator().AsSourceGenerator()], additionalTexts: _recipes, parseOptions: GeneratorHarness.ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true)).RunGenerators(_compilation);

    private static List<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).ToList();

    private static IEnumerable<IncrementalStepRunReason> SourceOutputReasons(GeneratorDriver driver) =>
        driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason);

    [Fact]
    public void An_identical_second_run_is_entirely_cached()
    {
        var driver = FirstRun().RunGenerators(_compilation.Clone());
        Assert.All(Outputs(driver, TrackingNames.RecipeFiles), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.All(Outputs(driver, TrackingNames.Pipelines), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.All(SourceOutputReasons(driver), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void Editing_unrelated_csharp_regenerates_nothing()
    {
        var edited = _compilation.ReplaceSyntaxTree(_compilation.SyntaxTrees.First(),
            CSharpSyntaxTree.ParseText("namespace Consumer; public class Unrelated { public int A => 2; public int B => 3; }", GeneratorHarness.ParseOptions, "Source0.cs"));
        var driver = FirstRun().RunGenerators(edited);
        Assert.All(Outputs(driver, TrackingNames.Pipelines), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.All(SourceOutputReasons(driver), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void Editing_one_recipe_regenerates_only_the_pipelines_it_changes()
    {
        var retinanet = _recipes.Single(r => Path.GetFileName(r.Path) == "retinanet.yaml");
        string text = retinanet.GetText().ToString();
        Assert.Contains("alpha: 0.25,", text);
        var driver = FirstRun()
            .ReplaceAdditionalText(retinanet, new InMemoryAdditionalText(retinanet.Path, text.Replace("alpha: 0.25,", "alpha: 0.3,")))
            .RunGenerators(_compilation);

        var pipelines = Outputs(driver, TrackingNames.Pipelines);
        var modified = pipelines.Where(o => o.Reason == IncrementalStepRunReason.Modified).Select(o => ((PipelineSpec)o.Value).TypeName).Order(StringComparer.Ordinal);
        // retinanet is pisa-retinanet's base, so both change; every other pipeline is untouched.
        Assert.Equal(["PisaRetinanet", "Retinanet"], modified);
        Assert.All(pipelines.Where(o => o.Reason != IncrementalStepRunReason.Modified), o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        Assert.Equal(pipelines.Count, _recipes.Length - 1 + 4); // the sweep recipe contributes its 4 points, not itself
    }
}
