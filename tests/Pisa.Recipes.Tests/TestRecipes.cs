using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>Test helpers: the shipped recipes and loading recipe text as if it lived beside them.</summary>
internal static class TestRecipes
{
    public static string Folder => RepoPaths.InRoot("recipes");

    public static string[] ShippedNames { get; } =
        ["faster-rcnn", "libra-faster-rcnn", "ohem-faster-rcnn", "pisa-faster-rcnn", "retinanet", "pisa-retinanet", "pisa-sweep"];

    public static TheoryData<string> Shipped => new(ShippedNames);

    public static string PathOf(string name) => Path.Combine(Folder, name + ".yaml");

    public static RecipeLoadResult LoadShipped(string name, params string[] overrides) => new RecipeLoader().LoadFile(PathOf(name), overrides);

    /// <summary>Loads <paramref name="yaml"/> as recipes/{its name}.yaml, so shipped recipes resolve as bases.</summary>
    public static RecipeLoadResult LoadText(string yaml, params string[] overrides)
    {
        string name = yaml.Split('\n').First(l => l.StartsWith("recipe:", StringComparison.Ordinal)).Substring(7).Trim();
        return new RecipeLoader().LoadText(yaml, Path.Combine(Folder, name + ".yaml"), overrides);
    }

    public static Recipe Valid(RecipeLoadResult result)
    {
        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        return result.Recipe!;
    }

    public static IEnumerable<DiagnosticInfo> Errors(RecipeLoadResult result) => result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);
}
