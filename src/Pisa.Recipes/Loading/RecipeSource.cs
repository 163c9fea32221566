using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>
/// Where recipe text comes from. The CLI and runner read files; the generator must not touch the file system
/// (analyzer rule RS1035), so it hands its AdditionalFiles over as an <see cref="InMemoryRecipeSource"/>.
/// </summary>
public interface IRecipeSource
{
    /// <summary>The text at <paramref name="path"/>, or null when there is none.</summary>
    /// <exception cref="InvalidRecipeTextException">The file's bytes are not UTF-8 (at the first bad byte).</exception>
    string? ReadText(string path);

    /// <summary>The recipe files (*.yaml, *.yml) of a folder, for "did you mean" on base names.</summary>
    IEnumerable<string> ListRecipes(string folder);
}

public sealed class FileRecipeSource : IRecipeSource
{
    public static FileRecipeSource Instance { get; } = new();

    public string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? RecipeText.Decode(File.ReadAllBytes(path), path) : null;
        }
        catch (Exception ex) when (ex is IOException and not InvalidRecipeTextException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public IEnumerable<string> ListRecipes(string folder) => ListFolder(folder.Length == 0 ? "." : folder);

    private static IEnumerable<string> ListFolder(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.yaml").Concat(Directory.EnumerateFiles(folder, "*.yml")).OrderBy(p => p, StringComparer.Ordinal).ToList()
            : Enumerable.Empty<string>();
}

/// <summary>Recipe texts by full path (tests, the generator's AdditionalFiles).</summary>
public sealed class InMemoryRecipeSource(IEnumerable<KeyValuePair<string, string>> files) : IRecipeSource
{
    private readonly Dictionary<string, string> _files = files.ToDictionary(f => Path.GetFullPath(f.Key), f => f.Value);

    public string? ReadText(string path) => _files.TryGetValue(Path.GetFullPath(path), out string? text) ? text : null;

    public IEnumerable<string> ListRecipes(string folder)
    {
        string full = Path.GetFullPath(folder);
        return _files.Keys.Where(p => string.Equals(Path.GetDirectoryName(p), full, StringComparison.Ordinal)).OrderBy(p => p, StringComparer.Ordinal).ToList();
    }
}
