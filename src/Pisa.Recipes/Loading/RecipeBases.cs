using System;
using System.Collections.Generic;
using System.IO;

namespace Pisa.Recipes;

/// <summary>
/// How a <c>base:</c> name finds a project's recipe file, before the shipped recipes: the one rule that the loader and
/// the generator's dependency tracking (which files a recipe's parse reads) both follow.
/// </summary>
public static class RecipeBases
{
    /// <summary><c>pisa/faster-rcnn</c>: always the shipped recipe.</summary>
    public static bool NamesShipped(string name) => name.StartsWith(ShippedRecipes.Prefix, StringComparison.Ordinal);

    /// <summary>A relative path (a slash, or a .yaml/.yml ending) rather than a recipe name.</summary>
    public static bool IsPath(string name) =>
        name.IndexOf('/') >= 0 || name.IndexOf('\\') >= 0 || name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal);

    /// <summary>
    /// The project files <paramref name="name"/> may be, in lookup order: <c>folder/name.yaml</c> then <c>.yml</c>, or the
    /// path relative to <paramref name="folder"/>; none for a shipped name.
    /// </summary>
    public static IReadOnlyList<string> Candidates(string name, string folder) =>
        NamesShipped(name) ? Array.Empty<string>()
        : IsPath(name) ? new[] { Path.Combine(folder, name) }
        : new[] { Path.Combine(folder, name + ".yaml"), Path.Combine(folder, name + ".yml") };

    /// <summary>The <c>base:</c> a recipe text names, or null (none, or text that is not a readable mapping).</summary>
    public static string? NameIn(string text, string path) =>
        YamlTreeReader.Read(text, path, new List<DiagnosticInfo>()) is MapNode map && map.Find("base")?.Value is ScalarNode { IsNull: false } name
            ? name.Text
            : null;
}
