using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Pisa.Recipes;

/// <summary>
/// The resolved form: canonical YAML of a fully resolved recipe, every value explicit, keys in the language's order,
/// numbers culture-invariant. It is itself a valid recipe (no base), printed by <c>pisa explain</c>, written beside
/// every run and snapshot-tested, so a change of any default shows up as a diff.
/// </summary>
public static class ResolvedRecipeWriter
{
    public static string Write(Recipe recipe)
    {
        var settings = recipe.Settings.ToDictionary(s => s.Path, s => s.Value);
        var text = new StringBuilder();
        text.Append("# Resolved recipe ").Append(recipe.Name);
        if (recipe.Variant is not null) text.Append(", variant point ").Append(recipe.Variant);
        text.Append(" (base chain: ").Append(string.Join(" <- ", recipe.BaseChain)).Append("). Every value is explicit.\n");
        WriteSection(RecipeKeys.Root, settings, 0, text);
        if (recipe.Variants.Count > 0)
        {
            text.Append("variants:\n");
            foreach (VariantAxis axis in recipe.Variants)
                text.Append("  ").Append(axis.Key).Append(": [").Append(string.Join(", ", axis.Values)).Append("]\n");
        }
        return text.ToString();
    }

    private static void WriteSection(KeySpec section, IReadOnlyDictionary<string, string> settings, int indent, StringBuilder text)
    {
        string pad = new(' ', indent);
        foreach (KeySpec key in section.Children)
        {
            if (key.Kind == KeyKind.Section)
            {
                if (settings.TryGetValue(key.Path, out string? off))
                    text.Append(pad).Append(key.Name).Append(": ").Append(off).Append('\n');
                else if (settings.Keys.Any(p => p.StartsWith(key.Path + ".", System.StringComparison.Ordinal)))
                {
                    text.Append(pad).Append(key.Name).Append(":\n");
                    WriteSection(key, settings, indent + 2, text);
                }
            }
            else if (settings.TryGetValue(key.Path, out string? value))
                text.Append(pad).Append(key.Name).Append(": ").Append(value).Append('\n');
        }
    }
}
