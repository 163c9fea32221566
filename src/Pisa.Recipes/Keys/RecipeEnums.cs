using System;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>Recipe names ⇄ model enums: <c>score_hlr</c> ⇄ <see cref="NegativeSamplerKind.ScoreHlr"/>, <c>two-stage</c> ⇄ <see cref="DetectorKind.TwoStage"/>.</summary>
public static class RecipeEnums
{
    public static T Parse<T>(string name) where T : struct => (T)Enum.Parse(typeof(T), RecipeNames.Pascal(name), ignoreCase: true);

    /// <summary>The recipe name of an enum value, taken from the key that lists it (so the separator, '-' or '_', is the recipe's).</summary>
    public static string NameOf<T>(T value, string keyPath) where T : struct, Enum
    {
        KeySpec key = RecipeKeys.Find(keyPath) ?? throw new ArgumentException($"no key '{keyPath}'", nameof(keyPath));
        return key.Names.First(n => string.Equals(RecipeNames.Pascal(n), value.ToString(), StringComparison.OrdinalIgnoreCase));
    }
}
