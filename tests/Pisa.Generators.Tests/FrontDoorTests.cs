using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace Pisa.Generators.Tests;

/// <summary>A YAML recipe and the equivalent attributed class are one recipe: same rules, same code.</summary>
public class FrontDoorTests
{
    private const string AttributedPisaFasterRcnn = """
        using Pisa.Recipes;

        namespace Consumer;

        [Recipe("pisa-faster-rcnn", Base = "faster-rcnn")]
        [Rpn(TrainProposals = 2000, TestProposals = 2000)]
        [NegativeSampler(NegativeSamplerKind.ScoreHlr, ScoreThr = 0.05, IouThr = 0.5, K = 0.5, Bias = 0)]
        [ClassificationLoss(ClassificationLossKind.CrossEntropy)]
        [Isr(K = 2, Bias = 0)]
        [BoxLoss(BoxLossKind.SmoothL1, Beta = 1.0)]
        [Carl(K = 1, Bias = 0.2)]
        public partial class PisaFasterRcnn;
        """;

    [Fact]
    public void The_yaml_recipe_and_the_attributed_class_generate_identical_pipeline_code()
    {
        var (sources, generatorDiagnostics, compileDiagnostics) = GeneratorHarness.Run(GeneratorHarness.ShippedRecipes(), AttributedPisaFasterRcnn);
        Assert.Empty(generatorDiagnostics);
        Assert.Empty(compileDiagnostics);
        string fromYaml = Body(sources["Pisa.Pipelines.PisaFasterRcnn.g.cs"]);
        string fromAttributes = Body(sources["Consumer.PisaFasterRcnn.g.cs"]);
        Assert.Contains("ScoreHlrNegatives", fromYaml);
        Assert.Equal(fromYaml, fromAttributes);
    }

    [Fact]
    public void Both_front_doors_name_the_box_coder_and_the_generated_code_uses_it()
    {
        const string yaml = "recipe: unit-rcnn\nbase: faster-rcnn\nbox_coder: unit\n";
        const string attributed = """
            using Pisa.Recipes;

            namespace Consumer;

            [Recipe("unit-rcnn", Base = "faster-rcnn", BoxCoder = BoxCoderKind.Unit)]
            public partial class UnitRcnn;
            """;
        string folder = Path.GetDirectoryName(GeneratorHarness.ShippedRecipes().First().Path)!;
        var (sources, generatorDiagnostics, compileDiagnostics) = GeneratorHarness.Run(
            GeneratorHarness.ShippedRecipes().Append((Path.Combine(folder, "unit-rcnn.yaml"), yaml)), attributed);
        Assert.Empty(generatorDiagnostics);
        Assert.Empty(compileDiagnostics);
        const string unit = "Coder = global::Pisa.Kernels.BoxCoder.Unit;";
        Assert.Contains(unit, sources["Pisa.Pipelines.UnitRcnn.g.cs"]);
        Assert.Contains(unit, sources["Consumer.UnitRcnn.g.cs"]);
        Assert.Contains("Coder = global::Pisa.Kernels.BoxCoder.Rcnn;", sources["Pisa.Pipelines.FasterRcnn.g.cs"]);
        Assert.Contains(unit, sources["Pisa.Pipelines.Retinanet.g.cs"]);
    }

    [Fact]
    public void Attributed_stage_comments_point_at_the_attribute_that_set_them()
    {
        var (sources, _, _) = GeneratorHarness.Run(GeneratorHarness.ShippedRecipes(), AttributedPisaFasterRcnn);
        Assert.Contains("[sample.negatives: Source0.cs line 7]", sources["Consumer.PisaFasterRcnn.g.cs"]);
        Assert.Contains("[sample.positives: faster-rcnn.yaml line", sources["Consumer.PisaFasterRcnn.g.cs"]);
    }

    public static TheoryData<string, string, string> MalformedAttributeUsages() => new()
    {
        { "not partial", """[Pisa.Recipes.Recipe("x-rcnn", Base = "faster-rcnn")] public class XRcnn { }""", "PISA0100" },
        { "nested", """public partial class Outer { [Pisa.Recipes.Recipe("x-rcnn", Base = "faster-rcnn")] public partial class XRcnn; }""", "PISA0101" },
        { "generic", """[Pisa.Recipes.Recipe("x-rcnn", Base = "faster-rcnn")] public partial class XRcnn<T>;""", "PISA0101" },
        { "out of range", """[Pisa.Recipes.Recipe("x-rcnn", Base = "faster-rcnn")][Pisa.Recipes.Sample(PosFraction = 1.5)] public partial class XRcnn;""", "PISA0006" },
        { "missing base", """[Pisa.Recipes.Recipe("x-rcnn", Base = "fastr-rcnn")] public partial class XRcnn;""", "PISA0010" },
        { "no detector", """[Pisa.Recipes.Recipe("x-rcnn")] public partial class XRcnn;""", "PISA0008" },
        { "bad name", """[Pisa.Recipes.Recipe("X Rcnn", Base = "faster-rcnn")] public partial class XRcnn;""", "PISA0009" },
        { "unknown variant key", """[Pisa.Recipes.Recipe("x-rcnn", Base = "faster-rcnn")][Pisa.Recipes.Variant("loss.carl.kk", 1, 2)] public partial class XRcnn;""", "PISA0004" },
        { "score-hlr on single stage", """[Pisa.Recipes.Recipe("x-net", Base = "retinanet")][Pisa.Recipes.NegativeSampler(Pisa.Recipes.NegativeSamplerKind.ScoreHlr)] public partial class XNet;""", "PISA0012" },
        { "broken argument", """[Pisa.Recipes.Recipe("x-rcnn", Base = "faster-rcnn")][Pisa.Recipes.Carl(K = "two")] public partial class XRcnn;""", "CS0029" },
    };

    [Theory]
    [MemberData(nameof(MalformedAttributeUsages))]
    public void Malformed_attribute_usages_end_in_a_located_diagnostic_not_an_exception(string what, string source, string expectedId)
    {
        var (_, generatorDiagnostics, compileDiagnostics) = GeneratorHarness.Run(GeneratorHarness.ShippedRecipes(), source);
        var all = generatorDiagnostics.Concat(compileDiagnostics).ToList();
        Assert.DoesNotContain(all, d => d.Id == "PISA0103");
        var diagnostic = Assert.Single(all, d => d.Id == expectedId);
        var where = diagnostic.Location.GetLineSpan();
        Assert.True(where.IsValid, $"{what}: {diagnostic} has no location");
        Assert.Equal("Source0.cs", where.Path);
        Assert.Equal(0, where.StartLinePosition.Line);
    }

    /// <summary>The class body, without the stage comments' source references (which name the front door).</summary>
    internal static string Body(string source)
    {
        var lines = source.Split('\n');
        int start = Array.FindIndex(lines, l => l.Contains("public const string Recipe"));
        return string.Join('\n', lines[start..]).Replace("\r", "") is var body ? Regex.Replace(body, @" \[[a-z_.]+: [^\]]+\]", "") : "";
    }
}
