using System.Text.RegularExpressions;
using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>Every file under Broken/ produces the diagnostic its first line expects, at that line and column.</summary>
public class BrokenRecipeTests
{
    private static readonly Regex Expectation = new(@"^# expect: (PISA\d{4}) (\d+):(\d+)(?: in (\S+))?$");

    private static string Folder => RepoPaths.InRoot("tests", "Pisa.Recipes.Tests", "Broken");

    public static TheoryData<string> Files => new(Directory.GetFiles(Folder, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Fact]
    public void The_corpus_has_at_least_forty_cases_covering_every_rule_that_a_file_can_break()
    {
        var expected = Directory.GetFiles(Folder, "*.yaml").Select(f => Expectation.Match(File.ReadLines(f).First()).Groups[1].Value).ToHashSet();
        Assert.True(Directory.GetFiles(Folder, "*.yaml").Length >= 40);
        // PISA0019 (--set syntax) and PISA0021 (--variant name) are command-line rules, tested in OverrideAndVariantTests; PISA0025 needs a missing file.
        var fileRules = RecipeDiagnostics.All.Select(d => d.Id).Except(["PISA0019", "PISA0021", "PISA0025"]);
        Assert.Empty(fileRules.Except(expected));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void A_broken_recipe_reports_its_rule_at_its_place(string file)
    {
        string path = Path.Combine(Folder, file);
        Match expect = Expectation.Match(File.ReadLines(path).First());
        Assert.True(expect.Success, $"{file}: the first line must be '# expect: PISA0000 line:col [in other.yaml]'");
        string expectedFile = expect.Groups[4].Success ? Path.Combine(Folder, expect.Groups[4].Value) : path;
        var (id, line, column) = (expect.Groups[1].Value, int.Parse(expect.Groups[2].Value), int.Parse(expect.Groups[3].Value));

        RecipeLoadResult result = new RecipeLoader().LoadFile(path);

        string all = string.Join("\n", result.Diagnostics);
        Assert.Contains(result.Diagnostics, d => d.Id == id && d.Span.Line == line && d.Span.Column == column && Path.GetFullPath(d.Span.Path) == expectedFile);
        Assert.All(result.Diagnostics, d => Assert.True(d.Span.HasLines, $"unlocated: {d}"));
        if (RecipeDiagnostics.All.Single(d => d.Id == id).Severity == DiagnosticSeverity.Error)
            Assert.True(result.HasErrors && result.Recipe is null, all);
    }

    [Fact]
    public void A_misspelt_key_names_the_key_it_is_near()
    {
        RecipeLoadResult result = new RecipeLoader().LoadFile(Path.Combine(Folder, "misspelt-sample-key.yaml"));
        Assert.Contains("did you mean 'pos_fraction'?", Assert.Single(TestRecipes.Errors(result)).Message);
    }

    [Fact]
    public void A_key_in_the_wrong_section_says_where_it_belongs()
    {
        RecipeLoadResult result = new RecipeLoader().LoadFile(Path.Combine(Folder, "key-in-wrong-section.yaml"));
        Assert.Contains("'isr' belongs in 'loss.cls'", Assert.Single(TestRecipes.Errors(result)).Message);
    }

    [Fact]
    public void A_missing_base_names_the_chain_and_the_nearest_recipe()
    {
        string message = TestRecipes.Errors(TestRecipes.LoadText("recipe: my-faster\nbase: fastr-rcnn\n")).Single().Message;
        Assert.Contains("chain: my-faster", message);
        Assert.Contains("did you mean 'faster-rcnn'?", message);
    }

    [Fact]
    public void A_base_cycle_names_every_recipe_of_the_loop()
    {
        RecipeLoadResult result = new RecipeLoader().LoadFile(Path.Combine(Folder, "base-cycle-a.yaml"));
        Assert.Equal("base chain loops: base-cycle-a → base-cycle-b → base-cycle-a", TestRecipes.Errors(result).Single().Message);
    }

    [Fact]
    public void Diagnostics_print_in_the_build_form()
    {
        string path = Path.Combine(Folder, "carl-k-negative.yaml");
        DiagnosticInfo error = TestRecipes.Errors(new RecipeLoader().LoadFile(path)).Single();
        Assert.Equal($"{path}(5,14): error PISA0006: 'loss.carl.k' is -1: it must be >= 0", error.ToString());
    }

    [Fact]
    public void A_missing_file_is_a_located_error_not_an_exception()
    {
        RecipeLoadResult result = new RecipeLoader().LoadFile("no/such/recipe.yaml");
        Assert.Equal("no/such/recipe.yaml: error PISA0025: no such recipe file, or it cannot be read", TestRecipes.Errors(result).Single().ToString());
    }
}
