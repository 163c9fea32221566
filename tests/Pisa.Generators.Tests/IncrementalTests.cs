using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pisa.Compilation;
using Pisa.Recipes;
using static Microsoft.CodeAnalysis.IncrementalStepRunReason;

namespace Pisa.Generators.Tests;

/// <summary>
/// The generator's steps are cached the way an IDE needs (named tracked steps, as in Mapperly's tests): an identical
/// run is all cached; an edit to one recipe re-parses that file and the files that inherit it, and regenerates only
/// the pipelines it changes; an edit to <c>train:</c> re-emits no pipeline; an edit to unrelated C# regenerates nothing.
/// </summary>
public class IncrementalTests
{
    private readonly InMemoryAdditionalText[] _recipes =
        GeneratorHarness.ShippedRecipes().Select(r => new InMemoryAdditionalText(r.Path, r.Text)).ToArray();

    private readonly CSharpCompilation _compilation =
        GeneratorHarness.NewCompilation("namespace Consumer; public class Unrelated { public int A => 1; }");

    /// <summary>Every step of the YAML path, in pipeline order (the attributed path has no input here).</summary>
    private static readonly string[] YamlSteps =
    [
        TrackingNames.RecipeFiles, TrackingNames.AllRecipeFiles, TrackingNames.RecipeInputs, TrackingNames.YamlRecipes,
        TrackingNames.Merged, TrackingNames.Diagnostics, TrackingNames.Pipelines, TrackingNames.Stubs, TrackingNames.Catalog,
    ];

    private GeneratorDriver FirstRun(IEnumerable<AdditionalText>? recipes = null) => CSharpGeneratorDriver.Create(
        generators: [new RecipeGenerator().AsSourceGenerator()], additionalTexts: recipes ?? _recipes, parseOptions: GeneratorHarness.ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true)).RunGenerators(_compilation);

    private GeneratorDriver Edit(GeneratorDriver driver, string fileName, string from, string to)
    {
        var file = _recipes.Single(r => Path.GetFileName(r.Path) == fileName);
        string text = file.GetText()!.ToString();
        Assert.Contains(from, text);
        return driver.ReplaceAdditionalText(file, new InMemoryAdditionalText(file.Path, text.Replace(from, to))).RunGenerators(_compilation);
    }

    private static IReadOnlyList<IncrementalGeneratorRunStep> Steps(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps.TryGetValue(step, out var steps) ? steps : [];

    private static List<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorDriver driver, string step) =>
        Steps(driver, step).SelectMany(s => s.Outputs).ToList();

    /// <summary>The recipe files whose step ran (was not served from the cache), by file name.</summary>
    private static string[] FilesRun(GeneratorDriver driver, string step) =>
        Steps(driver, step).Where(s => s.Outputs.Any(o => o.Reason != Cached)).Select(s => Path.GetFileName(FileOf(s.Outputs[0].Value))).Order(StringComparer.Ordinal).ToArray();

    private static string FileOf(object value) => value switch
    {
        RecipeFile file => file.Path,
        RecipeInput input => input.File.Path,
        RecipeOutput output => output.Pipelines.Select(p => p.Origin).Concat(output.Stubs.Select(s => s.Origin)).First(),
        _ => throw new ArgumentException(value.GetType().Name),
    };

    private static string[] TypesWith(GeneratorDriver driver, IncrementalStepRunReason reason) =>
        Outputs(driver, TrackingNames.Pipelines).Where(o => o.Reason == reason).Select(o => ((PipelineSpec)o.Value).TypeName).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Each source output step (emit or report): what it was given and whether it ran.</summary>
    private static List<(object Value, IncrementalStepRunReason Reason)> SourceOutputs(GeneratorDriver driver) =>
        driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value)
            .SelectMany(step => step.Outputs.Select(o => (Value: InputOf(step), o.Reason))).ToList();

    private static object InputOf(IncrementalGeneratorRunStep step)
    {
        var (source, index) = step.Inputs.Single();
        return source.Outputs[index].Value;
    }

    [Fact]
    public void An_identical_second_run_is_entirely_cached()
    {
        var driver = FirstRun().RunGenerators(_compilation.Clone());
        foreach (string step in YamlSteps.Except([TrackingNames.Diagnostics, TrackingNames.Stubs])) // shipped recipes have neither
        {
            Assert.NotEmpty(Outputs(driver, step));
            Assert.All(Outputs(driver, step), o => Assert.Equal(Cached, o.Reason));
        }
        Assert.All(SourceOutputs(driver), o => Assert.Equal(Cached, o.Reason));
    }

    [Fact]
    public void Editing_unrelated_csharp_regenerates_nothing()
    {
        var edited = _compilation.ReplaceSyntaxTree(_compilation.SyntaxTrees.First(),
            CSharpSyntaxTree.ParseText("namespace Consumer; public class Unrelated { public int A => 2; public int B => 3; }", GeneratorHarness.ParseOptions, "Source0.cs"));
        var driver = FirstRun().RunGenerators(edited);
        foreach (string step in YamlSteps)
            Assert.All(Outputs(driver, step), o => Assert.Equal(Cached, o.Reason));
        Assert.All(SourceOutputs(driver), o => Assert.Equal(Cached, o.Reason));
    }

    [Fact]
    public void Editing_one_recipe_reparses_it_and_its_dependents_and_regenerates_only_their_pipelines()
    {
        var driver = Edit(FirstRun(), "retinanet.yaml", "alpha: 0.25,", "alpha: 0.3,");

        Assert.Equal(["retinanet.yaml"], FilesRun(driver, TrackingNames.RecipeFiles));
        Assert.Equal([Modified], Outputs(driver, TrackingNames.AllRecipeFiles).Select(o => o.Reason));
        // Every file's inputs are looked up again (cheap), but only the edited file's and its dependent's differ...
        Assert.Equal(_recipes.Length, FilesRun(driver, TrackingNames.RecipeInputs).Length);
        Assert.Equal(["pisa-retinanet.yaml", "retinanet.yaml"],
            Steps(driver, TrackingNames.RecipeInputs).Where(s => s.Outputs[0].Reason == Modified).Select(s => Path.GetFileName(FileOf(s.Outputs[0].Value))).Order(StringComparer.Ordinal));
        // ...so only those two are parsed again.
        Assert.Equal(["pisa-retinanet.yaml", "retinanet.yaml"], FilesRun(driver, TrackingNames.YamlRecipes));
        Assert.Equal([Modified], Outputs(driver, TrackingNames.Merged).Select(o => o.Reason));
        Assert.Equal(["PisaRetinanet", "Retinanet"], TypesWith(driver, Modified));
        Assert.Equal(_recipes.Length - 1 + 4 - 2, TypesWith(driver, Unchanged).Length); // the sweep contributes its 4 points, not itself
        Assert.Equal([Modified], Outputs(driver, TrackingNames.Catalog).Select(o => o.Reason));
        // Emitted again: the two pipelines and the catalog; every other source output is cached.
        Assert.Equal(3, SourceOutputs(driver).Count(o => o.Reason == Modified));
        Assert.All(SourceOutputs(driver).Where(o => o.Reason != Modified), o => Assert.Equal(Cached, o.Reason));
    }

    [Fact]
    public void Editing_a_base_reparses_every_recipe_down_its_inheritance_chain()
    {
        var driver = Edit(FirstRun(), "faster-rcnn.yaml", "num: 512", "num: 256");

        // pisa-sweep inherits faster-rcnn through pisa-faster-rcnn.
        Assert.Equal(["faster-rcnn.yaml", "libra-faster-rcnn.yaml", "ohem-faster-rcnn.yaml", "pisa-faster-rcnn.yaml", "pisa-sweep.yaml"],
            FilesRun(driver, TrackingNames.YamlRecipes));
        Assert.Equal(["FasterRcnn", "LibraFasterRcnn", "OhemFasterRcnn", "PisaFasterRcnn", "PisaSweep_IsrK1_CarlBias0", "PisaSweep_IsrK1_CarlBias0p2",
            "PisaSweep_IsrK2_CarlBias0", "PisaSweep_IsrK2_CarlBias0p2"], TypesWith(driver, Modified));
        Assert.Equal(["PisaRetinanet", "Retinanet"], TypesWith(driver, Unchanged));
    }

    [Fact]
    public void Editing_the_learning_rate_reparses_but_emits_no_pipeline_only_the_catalog()
    {
        var driver = Edit(FirstRun(), "retinanet.yaml", "lr: 0.01", "lr: 0.02");

        Assert.Equal(["pisa-retinanet.yaml", "retinanet.yaml"], FilesRun(driver, TrackingNames.YamlRecipes));
        Assert.Equal([Modified], Outputs(driver, TrackingNames.Merged).Select(o => o.Reason));
        Assert.Empty(TypesWith(driver, Modified));
        Assert.Contains("Retinanet", TypesWith(driver, Unchanged));
        Assert.Equal([Modified], Outputs(driver, TrackingNames.Catalog).Select(o => o.Reason));
        var emitted = Assert.Single(SourceOutputs(driver), o => o.Reason != Cached);
        var catalog = Assert.IsType<ImmutableEquatableArray<CatalogEntry>>(emitted.Value);
        Assert.Contains("lr: 0.02", catalog.Single(e => e.Recipe == "retinanet").ResolvedRecipe);
    }

    [Fact]
    public void An_attributed_class_is_parsed_again_only_when_its_base_chain_changes()
    {
        var compilation = GeneratorHarness.NewCompilation("""
            using Pisa.Recipes;
            namespace Consumer;
            [Recipe("my-retinanet", Base = "retinanet")]
            [Carl(K = 1, Bias = 0.2)]
            public partial class MyRetinanet;
            """);
        GeneratorDriver Run(GeneratorDriver driver) => driver.RunGenerators(compilation);
        var first = Run(CSharpGeneratorDriver.Create(
            generators: [new RecipeGenerator().AsSourceGenerator()], additionalTexts: _recipes, parseOptions: GeneratorHarness.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true)));
        string[] AttributedReasons(GeneratorDriver driver) =>
            Outputs(driver, TrackingNames.AttributedRecipes).Select(o => o.Reason.ToString()).ToArray();
        GeneratorDriver EditRun(string fileName, string from, string to)
        {
            var file = _recipes.Single(r => Path.GetFileName(r.Path) == fileName);
            return Run(first.ReplaceAdditionalText(file, new InMemoryAdditionalText(file.Path, file.GetText()!.ToString().Replace(from, to))));
        }

        Assert.Equal(["Cached"], AttributedReasons(EditRun("faster-rcnn.yaml", "num: 512", "num: 256")));
        Assert.Equal(["Modified"], AttributedReasons(EditRun("retinanet.yaml", "alpha: 0.25,", "alpha: 0.3,")));
    }

    [Fact]
    public void The_diagnostics_step_reports_again_only_when_a_recipe_error_changes()
    {
        const string broken = "recipe: my-net\nbase: retinanet\nassign: { pos_iou: 7 }\n";
        var file = new InMemoryAdditionalText(Path.Combine(Path.GetDirectoryName(_recipes[0].Path)!, "my-net.yaml"), broken);
        var first = FirstRun(_recipes.Append(file));
        Assert.Single(Outputs(first, TrackingNames.Diagnostics));
        Assert.Single(Outputs(first, TrackingNames.Stubs));

        var unrelated = Edit(first, "faster-rcnn.yaml", "num: 512", "num: 256");
        Assert.Equal([Unchanged], Outputs(unrelated, TrackingNames.Diagnostics).Select(o => o.Reason));
        Assert.Equal([Unchanged], Outputs(unrelated, TrackingNames.Stubs).Select(o => o.Reason));

        var fixedRun = unrelated.ReplaceAdditionalText(file, new InMemoryAdditionalText(file.Path, broken.Replace("7", "0.7"))).RunGenerators(_compilation);
        Assert.Equal(["my-net.yaml"], FilesRun(fixedRun, TrackingNames.YamlRecipes));
        Assert.Equal([Removed], Outputs(fixedRun, TrackingNames.Diagnostics).Select(o => o.Reason));
        Assert.Equal([Removed], Outputs(fixedRun, TrackingNames.Stubs).Select(o => o.Reason));
        Assert.Equal(["MyNet"], TypesWith(fixedRun, New));
    }
}
