using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace Pisa.Recipes;

/// <summary>
/// Loads recipes: reads the file and its <c>base:</c> chain, lays the chain, the <c>--set</c> overrides and each
/// variant point over each other, validates every result with the one validator and builds the model.
/// </summary>
public sealed class RecipeLoader(IRecipeSource? source = null)
{
    private static readonly Regex KeyPath = new(@"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$", RegexOptions.CultureInvariant);
    private readonly IRecipeSource _source = source ?? FileRecipeSource.Instance;

    /// <summary>Loads the recipe file at <paramref name="path"/> (as written: diagnostics show the same path).</summary>
    public RecipeLoadResult LoadFile(string path, IEnumerable<string>? overrides = null)
    {
        var diagnostics = new List<DiagnosticInfo>();
        string? text = ReadText(path, diagnostics, out bool badText);
        if (badText) return Finish(null, new List<Recipe>(), diagnostics);
        if (text is null)
        {
            diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.UnreadableFile, SourceSpan.Whole(path), "no such recipe file, or it cannot be read"));
            return Finish(null, new List<Recipe>(), diagnostics);
        }
        return LoadText(text, path, overrides);
    }

    /// <summary>Loads recipe text that lives at <paramref name="path"/> (bases are looked up beside it).</summary>
    public RecipeLoadResult LoadText(string text, string path, IEnumerable<string>? overrides = null)
    {
        var diagnostics = new List<DiagnosticInfo>();
        if (ReadMap(text, path, diagnostics) is not MapNode leaf) return Finish(null, new List<Recipe>(), diagnostics);
        CheckFileName(leaf, path, diagnostics);
        return LoadTree(leaf, path, Path.GetDirectoryName(path) ?? "", overrides, diagnostics);
    }

    /// <summary>
    /// The attribute front door: "key path → value" pairs (as an attribute parser produces them) go through the same
    /// base resolution, overrides, validation and variants as a YAML file. <paramref name="baseFolder"/> is where
    /// <c>base:</c> names are looked up.
    /// </summary>
    public RecipeLoadResult LoadSettings(IEnumerable<LocatedSetting> settings, SourceSpan origin, string baseFolder, IEnumerable<string>? overrides = null) =>
        LoadTree(RecipeTree.FromSettings(settings, origin), origin.Path, baseFolder, overrides, new List<DiagnosticInfo>());

    private RecipeLoadResult LoadTree(MapNode leaf, string path, string folder, IEnumerable<string>? overrides, List<DiagnosticInfo> diagnostics)
    {
        if (ResolveChain(leaf, path, folder, diagnostics) is not List<(string Name, MapNode Tree)> chain)
            return Finish(null, new List<Recipe>(), diagnostics);

        // Each recipe names itself: a base's recipe: never reaches the result. Deprecated keys are rewritten per layer,
        // so a moved value keeps its layer's priority (an old --set beats the recipe's new key).
        void Report(DiagnosticDescriptorInfo descriptor, SourceSpan span, params string[] arguments) =>
            diagnostics.Add(RecipeDiagnostics.Create(descriptor, span, arguments));
        RecipeNode merged = DeprecatedKeys.Migrate(chain[0].Tree, Report);
        for (int i = 1; i < chain.Count; i++) merged = RecipeTree.Overlay(DeprecatedKeys.Migrate(chain[i].Tree.Without("recipe"), Report), merged);
        if (overrides is not null)
            merged = RecipeTree.Overlay(merged, DeprecatedKeys.Migrate(ParseOverrides(overrides, diagnostics, ((MapNode)merged).Span), Report));

        var root = (MapNode)merged;
        var baseChain = chain.Select(c => c.Name).ToEquatableArray();
        Validated validated = RecipeValidator.Validate(root, diagnostics);
        Recipe? recipe = validated.HasErrors ? null : RecipeBuilder.Build(validated.Values, validated.Axes, null, baseChain);
        var points = ExpandVariants(root.Without("variants"), validated, recipe, baseChain, diagnostics);
        return Finish(recipe, points, diagnostics);
    }

    private static RecipeLoadResult Finish(Recipe? recipe, List<Recipe> points, List<DiagnosticInfo> diagnostics)
    {
        var ordered = diagnostics
            .GroupBy(d => d.ToString()).Select(g => g.First())
            .OrderBy(d => d.Span.Path, StringComparer.Ordinal).ThenBy(d => d.Span.Line).ThenBy(d => d.Span.Column).ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToEquatableArray();
        bool errors = ordered.Any(d => d.Severity == DiagnosticSeverity.Error);
        return new RecipeLoadResult(errors ? null : recipe, errors ? ImmutableEquatableArray<Recipe>.Empty : points.ToEquatableArray(), ordered);
    }

    private static MapNode? ReadMap(string text, string path, List<DiagnosticInfo> diagnostics)
    {
        RecipeNode? node = YamlTreeReader.Read(text, path, diagnostics);
        if (node is MapNode map) return map;
        if (node is not null)
            diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.WrongType, node.Span, "a recipe", "a mapping of keys (recipe: ..., detector: ...)",
                node is ListNode ? "a list" : "a single value"));
        return null;
    }

    private static void CheckFileName(MapNode leaf, string path, List<DiagnosticInfo> diagnostics)
    {
        // An invalid name gets its own error; suggesting it as a file name would only add noise.
        if (leaf.Find("recipe")?.Value is ScalarNode { IsNull: false } name && name.Text != Path.GetFileNameWithoutExtension(path)
            && Regex.IsMatch(name.Text, RecipeKeys.Find("recipe")!.Pattern!, RegexOptions.CultureInvariant))
            diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.NameDiffersFromFile, name.Span, name.Text, Path.GetFileName(path)));
    }

    /// <summary>The recipe and its bases, the recipe first; null after an error (missing base, cycle, unreadable base).</summary>
    private List<(string Name, MapNode Tree)>? ResolveChain(MapNode leaf, string path, string folder, List<DiagnosticInfo> diagnostics)
    {
        var chain = new List<(string Name, MapNode Tree)>();
        var fullPaths = new List<string> { Path.GetFullPath(path) };
        MapNode current = leaf;
        while (true)
        {
            chain.Add((RecipeName(current, path), current.Without("base")));
            if (current.Find("base") is not MapEntry entry) return chain;
            if (entry.Value is not ScalarNode { IsNull: false } baseName)
            {
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.WrongType, entry.Value.Span, "base", "a recipe name or relative path", "empty or not a single value"));
                return null;
            }
            string target = BasePath(folder, baseName.Text, _source);
            string chainText = string.Join(" → ", chain.Select(c => c.Name));
            if (fullPaths.Contains(Path.GetFullPath(target)))
            {
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.BaseCycle, baseName.Span, $"{chainText} → {baseName.Text}"));
                return null;
            }
            string? text = ReadText(target, diagnostics, out bool badText);
            if (badText) return null;
            if (text is null)
            {
                var known = _source.ListRecipes(folder).Select(Path.GetFileNameWithoutExtension);
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.BaseNotFound, baseName.Span, baseName.Text, target, chainText, RecipeNames.DidYouMean(baseName.Text, known)));
                return null;
            }
            if (ReadMap(text, target, diagnostics) is not MapNode next) return null;
            fullPaths.Add(Path.GetFullPath(target));
            (current, path, folder) = (next, target, Path.GetDirectoryName(target) ?? "");
        }
    }

    /// <summary>The source's text; text that is not UTF-8 is an error at its first bad byte (then <paramref name="bad"/> is true).</summary>
    private string? ReadText(string path, List<DiagnosticInfo> diagnostics, out bool bad)
    {
        try
        {
            bad = false;
            return _source.ReadText(path);
        }
        catch (InvalidRecipeTextException ex)
        {
            bad = true;
            diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.UnreadableFile, ex.Span,
                $"the file is not UTF-8: byte 0x{ex.Value:X2} here is not UTF-8 text (Latin-1 or another encoding?); save the file as UTF-8"));
            return null;
        }
    }

    private static string RecipeName(MapNode tree, string path) =>
        tree.Find("recipe")?.Value is ScalarNode { IsNull: false } name ? name.Text : Path.GetFileNameWithoutExtension(path);

    /// <summary>
    /// <c>faster-rcnn</c> → <c>folder/faster-rcnn.yaml</c> (or <c>.yml</c> when only that exists); a path (with a slash
    /// or a .yaml/.yml ending) is relative to the folder.
    /// </summary>
    private static string BasePath(string folder, string name, IRecipeSource source)
    {
        bool isPath = name.IndexOf('/') >= 0 || name.IndexOf('\\') >= 0 || name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal);
        if (isPath) return Path.Combine(folder, name);
        string yaml = Path.Combine(folder, name + ".yaml"), yml = Path.Combine(folder, name + ".yml");
        return !Exists(source, yaml) && Exists(source, yml) ? yml : yaml;
    }

    private static bool Exists(IRecipeSource source, string path)
    {
        try
        {
            return source.ReadText(path) is not null;
        }
        catch (InvalidRecipeTextException)
        {
            return true; // there, but not UTF-8: reading it reports where
        }
    }

    /// <summary><c>--set a.b=v</c> pairs → one tree whose spans name the override, so errors read <c>--set a.b=v: error ...</c>.</summary>
    private static MapNode ParseOverrides(IEnumerable<string> overrides, List<DiagnosticInfo> diagnostics, SourceSpan rootSpan)
    {
        var settings = new List<LocatedSetting>();
        foreach (string text in overrides)
        {
            var origin = SourceSpan.Whole("--set " + text);
            int equals = text.IndexOf('=');
            string key = equals > 0 ? text.Substring(0, equals).Trim() : "";
            if (!KeyPath.IsMatch(key))
            {
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.BadOverride, origin, text));
                continue;
            }
            var scratch = new List<DiagnosticInfo>();
            string valueText = text.Substring(equals + 1);
            RecipeNode value = valueText.Trim().Length == 0
                ? new ScalarNode("", false, origin)
                : YamlTreeReader.Read(valueText, origin.Path, scratch) ?? new ScalarNode("", false, origin);
            if (scratch.Count > 0)
            {
                diagnostics.Add(RecipeDiagnostics.Create(scratch[0].Descriptor, origin, scratch[0].Arguments.ToArray()));
                continue;
            }
            settings.Add(new LocatedSetting(key, RecipeTree.Relocate(value, origin), origin));
        }
        return RecipeTree.FromSettings(settings, rootSpan);
    }

    private static List<Recipe> ExpandVariants(MapNode root, Validated validated, Recipe? recipe, ImmutableEquatableArray<string> baseChain, List<DiagnosticInfo> diagnostics)
    {
        var points = new List<Recipe>();
        if (validated.Axes.Count == 0 || validated.Axes.Aggregate(1, (n, a) => n * a.Values.Count) > RecipeValidator.MaxPoints) return points;
        string typeName = RecipeNames.TypeName(recipe?.Name ?? (root.Find("recipe")?.Value as ScalarNode)?.Text ?? "Recipe");
        foreach (var point in CrossProduct(validated.Axes))
        {
            // A point is the recipe with each axis's value laid over it, located where the value was written.
            var tree = RecipeTree.FromSettings(point.Select(p => new LocatedSetting(p.Axis.Key, p.Axis.Values[p.Index], p.Axis.KeySpan)), root.Span);
            Validated result = RecipeValidator.Validate((MapNode)RecipeTree.Overlay(root, tree), diagnostics);
            string name = typeName + "_" + string.Join("_", point.Select(p => p.Axis.Label + RecipeNames.ValueLabel(p.Axis.Canonical[p.Index])));
            if (points.Any(p => p.Variant == name))
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.BadVariants, point[point.Count - 1].Axis.Values[point[point.Count - 1].Index].Span,
                    $"two variant points are both named {name}: their values differ only in how they are written"));
            else if (!result.HasErrors)
                points.Add(RecipeBuilder.Build(result.Values, Array.Empty<VariantAxisNodes>(), name, baseChain));
        }
        return points;
    }

    /// <summary>Every combination of one value (by index) per axis, the first axis varying slowest.</summary>
    private static IEnumerable<List<(VariantAxisNodes Axis, int Index)>> CrossProduct(IReadOnlyList<VariantAxisNodes> axes)
    {
        IEnumerable<List<(VariantAxisNodes, int)>> points = new[] { new List<(VariantAxisNodes, int)>() };
        foreach (VariantAxisNodes axis in axes)
            points = points.SelectMany(p => Enumerable.Range(0, axis.Values.Count).Select(i => new List<(VariantAxisNodes, int)>(p) { (axis, i) })).ToList();
        return points;
    }
}
