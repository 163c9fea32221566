using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>The shipped recipes travel inside the model assembly and resolve as bases by name, wherever a recipe lives.</summary>
public class ShippedBaseTests
{
    /// <summary>A recipe folder with nothing in it but what the test puts there (no file system).</summary>
    private const string Elsewhere = "/elsewhere/recipes";

    private static RecipeLoadResult Load(string yaml, params (string Name, string Text)[] beside)
    {
        var files = beside.Select(f => new KeyValuePair<string, string>(Path.Combine(Elsewhere, f.Name), f.Text)).ToList();
        return new RecipeLoader(new InMemoryRecipeSource(files)).LoadText(yaml, Path.Combine(Elsewhere, "mine.yaml"));
    }

    [Fact]
    public void The_embedded_recipes_are_the_files_of_the_recipes_folder()
    {
        Assert.Equal(TestRecipes.ShippedNames.Order(StringComparer.Ordinal), ShippedRecipes.Names);
        foreach (string name in TestRecipes.ShippedNames)
            Assert.Equal(File.ReadAllText(TestRecipes.PathOf(name)), ShippedRecipes.Text(name));
    }

    [Fact]
    public void A_bare_base_name_finds_the_shipped_recipe_when_no_file_of_that_name_is_beside_the_recipe()
    {
        Recipe recipe = TestRecipes.Valid(Load("recipe: mine\nbase: pisa-faster-rcnn\nsample:\n  num: 256\n"));
        Assert.Equal(["mine", "pisa-faster-rcnn", "faster-rcnn"], recipe.BaseChain);
        Assert.Equal(256, recipe.Sample!.Num);
        Assert.Equal(NegativeSamplerKind.ScoreHlr, recipe.Sample.Negatives.Type);
    }

    [Fact]
    public void A_file_beside_the_recipe_shadows_the_bare_name_but_pisa_slash_always_names_the_shipped_one()
    {
        // A local faster-rcnn that differs from the shipped one in its sample size.
        string local = File.ReadAllText(TestRecipes.PathOf("faster-rcnn")).Replace("num: 512", "num: 128");
        Assert.NotEqual(File.ReadAllText(TestRecipes.PathOf("faster-rcnn")), local);

        Assert.Equal(128, TestRecipes.Valid(Load("recipe: mine\nbase: faster-rcnn\n", ("faster-rcnn.yaml", local))).Sample!.Num);
        Assert.Equal(512, TestRecipes.Valid(Load("recipe: mine\nbase: pisa/faster-rcnn\n", ("faster-rcnn.yaml", local))).Sample!.Num);
    }

    [Fact]
    public void A_shipped_recipe_finds_its_own_bases_among_the_shipped_recipes_not_beside_the_user_recipe()
    {
        // pisa-faster-rcnn derives from faster-rcnn: the shipped one, although a broken faster-rcnn sits beside mine.
        Recipe recipe = TestRecipes.Valid(Load("recipe: mine\nbase: pisa/pisa-faster-rcnn\n", ("faster-rcnn.yaml", "recipe: faster-rcnn\nbroken: [")));
        Assert.Equal(["mine", "pisa-faster-rcnn", "faster-rcnn"], recipe.BaseChain);
    }

    [Fact]
    public void A_missing_base_says_every_place_it_looked_and_the_nearest_shipped_name()
    {
        var error = TestRecipes.Errors(Load("recipe: mine\nbase: fastr-rcnn\n")).Single();
        Assert.Equal("PISA0010", error.Id);
        Assert.Contains("/elsewhere/recipes/fastr-rcnn.yaml, /elsewhere/recipes/fastr-rcnn.yml, pisa/fastr-rcnn among the recipes shipped with Pisa.Dsl (faster-rcnn, libra-faster-rcnn,", error.Message);
        Assert.Contains("did you mean 'faster-rcnn'?", error.Message);

        var shipped = TestRecipes.Errors(Load("recipe: mine\nbase: pisa/fastr-rcnn\n")).Single();
        Assert.Contains("looked for pisa/fastr-rcnn among the recipes shipped with Pisa.Dsl", shipped.Message);
        Assert.Contains("did you mean 'pisa/faster-rcnn'?", shipped.Message);
    }

    [Fact]
    public void An_attributed_recipe_without_a_recipe_file_of_its_base_name_derives_from_the_shipped_one()
    {
        var settings = new[] { new LocatedSetting("recipe", new ScalarNode("mine", false, SourceSpan.Whole("Mine.cs")), SourceSpan.Whole("Mine.cs")),
                               new LocatedSetting("base", new ScalarNode("retinanet", false, SourceSpan.Whole("Mine.cs")), SourceSpan.Whole("Mine.cs")) };
        RecipeLoadResult result = new RecipeLoader(new InMemoryRecipeSource([])).LoadSettings(settings, SourceSpan.Whole("Mine.cs"), baseFolder: null);
        Assert.Equal(DetectorKind.SingleStage, TestRecipes.Valid(result).Detector);

        var missing = new[] { settings[0], new LocatedSetting("base", new ScalarNode("retina", false, SourceSpan.Whole("Mine.cs")), SourceSpan.Whole("Mine.cs")) };
        string message = TestRecipes.Errors(new RecipeLoader(new InMemoryRecipeSource([])).LoadSettings(missing, SourceSpan.Whole("Mine.cs"), baseFolder: null)).Single().Message;
        Assert.Contains("looked for retina.yaml and retina.yml among the project's recipe files (recipes/**), pisa/retina among the recipes shipped with Pisa.Dsl", message);
    }

    [Fact]
    public void A_recipe_with_errors_still_declares_its_type_names()
    {
        Assert.Equal(["Mine"], Load("recipe: mine\nbase: faster-rcnn\nsample:\n  num: -3\n").TypeNames);
        Assert.Equal("mine", Load("recipe: mine\nbase: faster-rcnn\nsample:\n  num: -3\n").RecipeName);
        Assert.Equal(["Mine"], Load("recipe: mine\n  bad: [").TypeNames);
        Assert.Equal(["Mine_IsrK1", "Mine_IsrK2"],
            Load("recipe: mine\nbase: pisa-faster-rcnn\nsample:\n  num: -3\nvariants:\n  loss.cls.isr.k: [1, 2]\n").TypeNames);
    }
}
