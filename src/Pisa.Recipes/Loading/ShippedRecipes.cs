using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace Pisa.Recipes;

/// <summary>
/// The recipes of the repository's <c>recipes/</c> folder, embedded in this assembly so every user of the package can
/// derive from them: <c>base: pisa/faster-rcnn</c> always names the shipped one, and a bare <c>base: faster-rcnn</c>
/// finds it when no recipe file of that name sits beside the recipe. Embedded rather than read from disk because the
/// generator may not touch the file system.
/// </summary>
public static class ShippedRecipes
{
    /// <summary>The prefix that names a shipped recipe explicitly (<c>pisa/faster-rcnn</c>).</summary>
    public const string Prefix = "pisa/";

    private const string ResourcePrefix = "Pisa.Recipes.Shipped/";

    private static readonly Lazy<IReadOnlyDictionary<string, string>> Texts = new(Load);

    /// <summary>The shipped recipes' names, sorted.</summary>
    public static IReadOnlyList<string> Names => Texts.Value.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>The text of the shipped recipe <paramref name="name"/> (<c>faster-rcnn</c>), or null.</summary>
    public static string? Text(string name) => Texts.Value.TryGetValue(name, out string? text) ? text : null;

    /// <summary>The path diagnostics and generated comments show for a shipped recipe: <c>pisa/faster-rcnn.yaml</c>.</summary>
    public static string PathOf(string name) => Prefix + name + ".yaml";

    private static IReadOnlyDictionary<string, string> Load()
    {
        var assembly = typeof(ShippedRecipes).Assembly;
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            texts[Path.GetFileNameWithoutExtension(resource.Substring(ResourcePrefix.Length))] = reader.ReadToEnd();
        }
        return texts;
    }
}
