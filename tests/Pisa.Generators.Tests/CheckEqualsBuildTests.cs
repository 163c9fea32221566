using Microsoft.CodeAnalysis;
using Pisa.Recipes;

namespace Pisa.Generators.Tests;

/// <summary>
/// <c>pisa check</c> and the build never disagree: every rule the build enforces on a recipe is a checker rule, reported
/// with the same id at the same place, and a recipe the checker accepts always generates code that compiles.
/// </summary>
public class CheckEqualsBuildTests
{
    private static readonly string Folder = RepoPaths.InRoot("tests", "Pisa.Generators.Tests", "grid");

    /// <summary>Every combination of the stage kinds (detector, samplers, classification and box loss, ISR-P, CARL).</summary>
    public static IReadOnlyList<(string Path, string Text)> StageGrid()
    {
        var recipes = new List<(string, string)>();
        foreach (string cls in new[] { "cross_entropy", "focal" })
        foreach (bool isr in new[] { false, true })
        foreach (string box in new[] { "l1", "none" })
        foreach (bool carl in new[] { false, true })
        {
            string loss = $"loss:\n  cls: {{ type: {cls}{(isr ? ", isr: { k: 2 }" : "")} }}\n  box: {{ type: {box} }}\n{(carl ? "  carl: { k: 1 }\n" : "")}";
            string tail = $"{cls}-{(isr ? "isr" : "no-isr")}-{box}-{(carl ? "carl" : "no-carl")}".Replace('_', '-');
            recipes.Add(Recipe($"grid-single-{tail}", "detector: single-stage\n" + loss));
            foreach (string positives in new[] { "random", "instance_balanced", "ohem" })
            foreach (string negatives in new[] { "random", "iou_balanced", "ohem", "score_hlr" })
            {
                string sample = $"sample:\n  positives: {{ type: {positives} }}\n  negatives: {{ type: {negatives} }}\n";
                recipes.Add(Recipe($"grid-two-{positives}-{negatives}-{tail}".Replace('_', '-'), "detector: two-stage\n" + sample + loss));
            }
        }
        return recipes;
    }

    private static (string, string) Recipe(string name, string body) => (Path.Combine(Folder, name + ".yaml"), $"recipe: {name}\n{body}");

    private static string Located(DiagnosticInfo d) => $"{d.Id} {Path.GetFileName(d.Span.Path)}({d.Span.Line},{d.Span.Column})";

    private static string Located(Diagnostic d)
    {
        var where = d.Location.GetLineSpan();
        return $"{d.Id} {Path.GetFileName(where.Path)}({where.StartLinePosition.Line + 1},{where.StartLinePosition.Character + 1})";
    }

    [Fact]
    public void On_every_combination_of_stages_the_build_reports_exactly_what_check_reports()
    {
        var grid = StageGrid();
        var (sources, generatorDiagnostics, compileDiagnostics) = GeneratorHarness.Run(grid);
        int accepted = 0, refused = 0;
        var mismatches = new List<string>();
        foreach (var (path, text) in grid)
        {
            RecipeLoadResult checkedResult = new RecipeLoader().LoadText(text, path);
            var fromCheck = checkedResult.Diagnostics.Select(Located).Order(StringComparer.Ordinal).ToList();
            var fromBuild = generatorDiagnostics.Where(d => d.Location.GetLineSpan().Path == path).Select(Located).Order(StringComparer.Ordinal).ToList();
            if (!fromCheck.SequenceEqual(fromBuild))
                mismatches.Add($"{Path.GetFileName(path)}: check [{string.Join(", ", fromCheck)}], build [{string.Join(", ", fromBuild)}]");
            if (checkedResult.HasErrors) { refused++; continue; }
            accepted++;
            string hint = "Pisa.Pipelines." + RecipeNames.TypeName(Path.GetFileNameWithoutExtension(path)) + ".g.cs";
            if (!sources.ContainsKey(hint)) mismatches.Add($"{Path.GetFileName(path)}: check accepts it, the build generated no {hint}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.Empty(compileDiagnostics);
        // Both outcomes occur, so the comparison is not vacuous (single-stage cross entropy, OHEM with focal, ... are refused).
        Assert.True(accepted >= 40 && refused >= 40, $"{accepted} accepted, {refused} refused");
    }

    [Fact]
    public void Every_file_of_the_broken_corpus_gets_the_same_ids_at_the_same_places_from_check_and_build()
    {
        var mismatches = new List<string>();
        string broken = RepoPaths.InRoot("tests", "Pisa.Recipes.Tests", "Broken");
        var corpus = Directory.GetFiles(broken, "*.yaml").Order(StringComparer.Ordinal).Select(p => (Path: p, Text: File.ReadAllText(p))).ToList();
        // The shipped recipes come along: two corpus files inherit from one.
        var (_, generatorDiagnostics, _) = GeneratorHarness.Run(corpus.Concat(GeneratorHarness.ShippedRecipes()));
        foreach (var (path, _) in corpus)
        {
            // Some files report in another file of the corpus (a base); compare everything a file's load reports.
            var fromCheck = new RecipeLoader().LoadFile(path).Diagnostics.Select(Located).ToHashSet();
            var fromBuild = generatorDiagnostics.Select(Located).ToHashSet();
            var missing = fromCheck.Except(fromBuild).ToList();
            if (missing.Count > 0) mismatches.Add($"{Path.GetFileName(path)}: the build does not report {string.Join(", ", missing)}");
        }
        // And nothing the build reports on the corpus is unknown to the checker.
        var allChecked = corpus.SelectMany(c => new RecipeLoader().LoadFile(c.Path).Diagnostics.Select(Located)).ToHashSet();
        mismatches.AddRange(generatorDiagnostics.Select(Located).Where(d => !allChecked.Contains(d)).Select(d => "the build alone reports " + d));
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void The_build_has_no_recipe_rules_of_its_own()
    {
        // What only a build can see: C# declarations, its own failure, two inputs generating one type. No stage rule.
        Assert.Equal(["PISA0100", "PISA0101", "PISA0103", "PISA0104"], Diagnostics.GeneratorOnly.Select(d => d.Id));
    }

    [Fact]
    public void A_two_stage_recipe_with_a_focal_loss_fails_check_where_the_build_fails()
    {
        const string text = "recipe: focal-rcnn\nbase: faster-rcnn\nloss:\n  cls: { type: focal }\n";
        string path = Path.Combine(RepoPaths.InRoot("recipes"), "focal-rcnn.yaml");
        RecipeLoadResult result = new RecipeLoader(new InMemoryRecipeSource(GeneratorHarness.ShippedRecipes().Append((Path: path, Text: text))
            .Select(r => new KeyValuePair<string, string>(r.Path, r.Text)))).LoadFile(path);
        DiagnosticInfo error = Assert.Single(result.Diagnostics, d => d.Severity == Pisa.Recipes.DiagnosticSeverity.Error);
        Assert.Equal("focal-rcnn.yaml(4,16)", $"{Path.GetFileName(error.Span.Path)}({error.Span.Line},{error.Span.Column})");
        Assert.Contains("cross_entropy", error.Message);
    }
}
