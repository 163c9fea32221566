namespace Pisa.Recipes;

/// <summary>Placeholder: the recipe model arrives with the recipes issue.</summary>
public static class RecipeModel
{
}
