using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>What <c>pisa check</c> found: the recipe files, pipelines and every diagnostic (each once, even when a base is checked through several recipes).</summary>
public sealed record CheckReport(int Files, int Pipelines, ImmutableEquatableArray<DiagnosticInfo> Diagnostics)
{
    public int Errors => Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);

    public int Warnings => Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Warning);

    public string Summary => $"checked {Files} recipe file{(Files == 1 ? "" : "s")} ({Pipelines} pipeline{(Pipelines == 1 ? "" : "s")}): "
        + $"{Errors} error{(Errors == 1 ? "" : "s")}, {Warnings} warning{(Warnings == 1 ? "" : "s")}";
}

/// <summary>Validates files and folders of recipes (folders recursively, *.yaml and *.yml, in ordinal order).</summary>
public static class RecipeChecker
{
    public static CheckReport Check(IEnumerable<string> paths, RecipeLoader? loader = null)
    {
        loader ??= new RecipeLoader();
        var diagnostics = new List<DiagnosticInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int files = 0, pipelines = 0;
        foreach (string file in paths.SelectMany(Expand))
        {
            files++;
            RecipeLoadResult result = loader.LoadFile(file);
            pipelines += result.Pipelines.Count();
            diagnostics.AddRange(result.Diagnostics.Where(d => seen.Add(d.ToString())));
        }
        return new CheckReport(files, pipelines, diagnostics.ToEquatableArray());
    }

    private static IEnumerable<string> Expand(string path)
    {
        if (!Directory.Exists(path)) return new[] { path };
        return Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();
    }
}
