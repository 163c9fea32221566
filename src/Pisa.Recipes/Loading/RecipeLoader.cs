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
        // Unreadable YAML still declares a pipeline: the one its file name promises.
        if (ReadMap(text, path, diagnostics) is not MapNode leaf)
            return Finish(null, new List<Recipe>(), diagnostics) with
            {
                RecipeName = Path.GetFileNameWithoutExtension(path),
                TypeNames = ImmutableEquatableArray.Create(RecipeNames.TypeName(Path.GetFileNameWithoutExtension(path))),
            };
        CheckFileName(leaf, path, diagnostics);
        return LoadTree(leaf, path, Path.GetDirectoryName(path) ?? "", overrides, diagnostics);
    }

    /// <summary>
    /// The attribute front door: "key path → value" pairs (as an attribute parser produces them) go through the same
    /// base resolution, overrides, validation and variants as a YAML file. <paramref name="baseFolder"/> is where
    /// <c>base:</c> names are looked up before the shipped recipes; null when the caller has looked among the project's
    /// recipe files already (<see cref="ShippedRecipes"/>).
    /// </summary>
    public RecipeLoadResult LoadSettings(IEnumerable<LocatedSetting> settings, SourceSpan origin, string? baseFolder, IEnumerable<string>? overrides = null) =>
        LoadTree(RecipeTree.FromSettings(settings, origin), origin.Path, baseFolder, overrides, new List<DiagnosticInfo>());

    private RecipeLoadResult LoadTree(MapNode leaf, string path, string? folder, IEnumerable<string>? overrides, List<DiagnosticInfo> diagnostics)
    {
        if (ResolveChain(leaf, path, folder, diagnostics) is not List<(string Name, MapNode Tree)> chain)
            return Finish(null, new List<Recipe>(), diagnostics) with
            {
                RecipeName = RecipeName(leaf, path),
                TypeNames = ImmutableEquatableArray.Create(RecipeNames.TypeName(RecipeName(leaf, path))),
            };

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
        string name = recipe?.Name ?? RecipeName(root, path), typeName = RecipeNames.TypeName(name);
        var typeNames = validated.Axes.Count == 0 ? new[] { typeName }
            : Countable(validated.Axes) ? CrossProduct(validated.Axes).Select(p => PointName(typeName, p)).Distinct().ToArray()
            : Array.Empty<string>();
        return Finish(recipe, points, diagnostics) with { RecipeName = name, TypeNames = typeNames.ToEquatableArray() };
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
    private List<(string Name, MapNode Tree)>? ResolveChain(MapNode leaf, string path, string? folder, List<DiagnosticInfo> diagnostics)
    {
        var chain = new List<(string Name, MapNode Tree)>();
        var seen = new List<string> { Path.GetFullPath(path) };
        MapNode current = leaf;
        bool shipped = false;
        while (true)
        {
            chain.Add((RecipeName(current, path), current.Without("base")));
            if (current.Find("base") is not MapEntry entry) return chain;
            if (entry.Value is not ScalarNode { IsNull: false } baseName)
            {
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.WrongType, entry.Value.Span, "base", "a recipe name or relative path", "empty or not a single value"));
                return null;
            }
            string chainText = string.Join(" → ", chain.Select(c => c.Name));
            var looked = new List<string>();
            var found = FindBase(baseName.Text, folder, shipped, looked, diagnostics, out bool unreadable);
            if (unreadable) return null;
            if (found is null)
            {
                var known = (folder is null ? Enumerable.Empty<string>() : _source.ListRecipes(folder).Select(Path.GetFileNameWithoutExtension))
                    .Concat(baseName.Text.StartsWith(ShippedRecipes.Prefix, StringComparison.Ordinal) ? ShippedRecipes.Names.Select(n => ShippedRecipes.Prefix + n) : ShippedRecipes.Names);
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.BaseNotFound, baseName.Span, baseName.Text, string.Join(", ", looked), chainText, RecipeNames.DidYouMean(baseName.Text, known)));
                return null;
            }
            if (seen.Contains(found.Key))
            {
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.BaseCycle, baseName.Span, $"{chainText} → {baseName.Text}"));
                return null;
            }
            if (ReadMap(found.Text, found.Path, diagnostics) is not MapNode next) return null;
            seen.Add(found.Key);
            (current, path, folder, shipped) = (next, found.Path, found.Shipped ? null : Path.GetDirectoryName(found.Path) ?? "", found.Shipped);
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

    private sealed record BaseRecipe(string Path, string Text, bool Shipped, string Key);

    /// <summary>
    /// Where a <c>base:</c> is, each place tried added to <paramref name="looked"/>. <c>faster-rcnn</c> is
    /// <c>folder/faster-rcnn.yaml</c>, then <c>.yml</c>, then the shipped recipe of that name; a path (with a slash or a
    /// .yaml/.yml ending) is relative to the folder only; <c>pisa/faster-rcnn</c> is always the shipped recipe, and so is
    /// every base of a shipped recipe. A null <paramref name="folder"/> means the caller already looked among the project's
    /// recipe files (the generator, for an attributed class: by name among its AdditionalFiles).
    /// </summary>
    /// <param name="unreadable">Set when a candidate exists but is not UTF-8 (reported in <paramref name="diagnostics"/>).</param>
    private BaseRecipe? FindBase(string name, string? folder, bool inShipped, List<string> looked, List<DiagnosticInfo> diagnostics, out bool unreadable)
    {
        unreadable = false;
        bool explicitlyShipped = RecipeBases.NamesShipped(name);
        bool isPath = RecipeBases.IsPath(name);
        if (!explicitlyShipped && !inShipped)
        {
            if (folder is null)
                looked.Add($"{name}.yaml and {name}.yml among the project's recipe files (recipes/**)");
            else
                foreach (string candidate in RecipeBases.Candidates(name, folder))
                {
                    looked.Add(candidate);
                    string? text = ReadText(candidate, diagnostics, out unreadable);
                    if (unreadable) return null;
                    if (text is not null) return new BaseRecipe(candidate, text, false, Path.GetFullPath(candidate));
                }
            if (isPath) return null;
        }
        string shippedName = Path.GetFileNameWithoutExtension(explicitlyShipped ? name.Substring(ShippedRecipes.Prefix.Length) : name);
        looked.Add($"{ShippedRecipes.Prefix}{shippedName} among the recipes shipped with Pisa.Dsl ({string.Join(", ", ShippedRecipes.Names)})");
        return ShippedRecipes.Text(shippedName) is string shippedText
            ? new BaseRecipe(ShippedRecipes.PathOf(shippedName), shippedText, true, ShippedRecipes.Prefix + shippedName)
            : null;
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
        if (validated.Axes.Count == 0 || !Countable(validated.Axes)) return points;
        string typeName = RecipeNames.TypeName(recipe?.Name ?? (root.Find("recipe")?.Value as ScalarNode)?.Text ?? "Recipe");
        foreach (var point in CrossProduct(validated.Axes))
        {
            // A point is the recipe with each axis's value laid over it, located where the value was written.
            var tree = RecipeTree.FromSettings(point.Select(p => new LocatedSetting(p.Axis.Key, p.Axis.Values[p.Index], p.Axis.KeySpan)), root.Span);
            Validated result = RecipeValidator.Validate((MapNode)RecipeTree.Overlay(root, tree), diagnostics);
            string name = PointName(typeName, point);
            if (points.Any(p => p.Variant == name))
                diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.BadVariants, point[point.Count - 1].Axis.Values[point[point.Count - 1].Index].Span,
                    $"two variant points are both named {name}: their values differ only in how they are written"));
            else if (!result.HasErrors)
                points.Add(RecipeBuilder.Build(result.Values, Array.Empty<VariantAxisNodes>(), name, baseChain));
        }
        return points;
    }

    private static bool Countable(IReadOnlyList<VariantAxisNodes> axes) => axes.Aggregate(1, (n, a) => n * a.Values.Count) <= RecipeValidator.MaxPoints;

    /// <summary>A variant point's type name: <c>PisaSweep_IsrK1_CarlBias0p2</c>.</summary>
    private static string PointName(string typeName, List<(VariantAxisNodes Axis, int Index)> point) =>
        typeName + "_" + string.Join("_", point.Select(p => p.Axis.Label + RecipeNames.ValueLabel(p.Axis.Canonical[p.Index])));

    /// <summary>Every combination of one value (by index) per axis, the first axis varying slowest.</summary>
    private static IEnumerable<List<(VariantAxisNodes Axis, int Index)>> CrossProduct(IReadOnlyList<VariantAxisNodes> axes)
    {
        IEnumerable<List<(VariantAxisNodes, int)>> points = new[] { new List<(VariantAxisNodes, int)>() };
        foreach (VariantAxisNodes axis in axes)
            points = points.SelectMany(p => Enumerable.Range(0, axis.Values.Count).Select(i => new List<(VariantAxisNodes, int)>(p) { (axis, i) })).ToList();
        return points;
    }
}
