using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace Pisa.Recipes;

/// <summary>One sweep axis as written: the key, where it was written, and its value nodes.</summary>
internal sealed record VariantAxisNodes(string Key, SourceSpan KeySpan, string Label, IReadOnlyList<ScalarNode> Values, IReadOnlyList<string> Canonical);

/// <summary>The outcome of validating one merged tree.</summary>
internal sealed record Validated(ResolvedValues Values, IReadOnlyList<VariantAxisNodes> Axes, bool HasErrors);

/// <summary>
/// The one set of rules: walks a located tree against <see cref="RecipeKeys"/> (unknown keys, types, ranges, names,
/// options of the wrong type, two-stage-only stages), then checks how the stages combine (<see cref="StageRules"/>).
/// Every front door ends here, so YAML, attributes, <c>--set</c> and variant points report the same errors.
/// </summary>
internal sealed class RecipeValidator
{
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly ResolvedValues _values = new();
    private readonly List<VariantAxisNodes> _axes = new();
    private readonly int _errorsBefore;
    private bool _singleStage;
    private SourceSpan? _detectorSpan;
    private string _recipePath = "";

    private RecipeValidator(List<DiagnosticInfo> diagnostics)
    {
        _diagnostics = diagnostics;
        _errorsBefore = CountErrors();
    }

    /// <summary>Validates a merged recipe tree (base chain and overrides already laid over each other).</summary>
    public static Validated Validate(MapNode root, List<DiagnosticInfo> diagnostics)
    {
        var validator = new RecipeValidator(diagnostics);
        validator.Run(root);
        return new Validated(validator._values, validator._axes, validator.CountErrors() > validator._errorsBefore);
    }

    private int CountErrors() => _diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);

    private void Report(DiagnosticDescriptorInfo descriptor, SourceSpan span, params string[] arguments) =>
        _diagnostics.Add(RecipeDiagnostics.Create(descriptor, span, arguments));

    private void Run(MapNode root)
    {
        _recipePath = root.Span.Path; // the merged tree keeps the leaf recipe's span
        CheckRequired(root);
        if (root.Find("detector") is MapEntry detector && ReadValue(RecipeKeys.Find("detector")!, detector.Value) is string kind)
        {
            _singleStage = kind == "single-stage";
            _detectorSpan = detector.Value.Span;
        }
        WalkSection(RecipeKeys.Root, root);
        if (CountErrors() == _errorsBefore) StageRules.Check(_values, _singleStage, _detectorSpan, Report);
    }

    private void CheckRequired(MapNode root)
    {
        if (root.Find("recipe") is null)
            Report(RecipeDiagnostics.MissingRequired, root.Span, "recipe", "its name, e.g. 'recipe: my-faster-rcnn'");
        if (root.Find("detector") is null)
            Report(RecipeDiagnostics.MissingRequired, root.Span, "detector", "two-stage or single-stage, here or in its base");
    }

    private void WalkSection(KeySpec section, MapNode? map)
    {
        (string? type, bool typeKnown) = SectionType(section, map);
        if (map is not null)
            foreach (MapEntry entry in map.Entries) CheckKeyBelongs(section, entry, type, typeKnown);

        foreach (KeySpec key in section.Children)
        {
            if (key.ForTypes is not null && !(typeKnown && key.ForTypes.Contains(type!))) continue;
            if (key.TwoStageOnly && _singleStage) continue;
            MapEntry? entry = map?.Find(key.Name);
            switch (key.Kind)
            {
                case KeyKind.Section:
                    WalkChildSection(key, entry);
                    break;
                case KeyKind.Variants:
                    if (entry is not null) ReadVariants(entry);
                    break;
                default:
                    if (key.Name == "base" && entry is not null) ReadValue(key, entry.Value);
                    else if (key.Name != "base" && !(key.Required && entry is null)) StoreLeaf(key, entry);
                    break;
            }
        }
    }

    /// <summary>The section's <c>type</c> as written (if valid) or its default; unknown after an invalid type, so its options are not judged.</summary>
    private (string? Type, bool Known) SectionType(KeySpec section, MapNode? map)
    {
        if (section.TypeKey is not KeySpec typeKey) return (null, true);
        if (map?.Find("type") is not MapEntry entry) return (typeKey.Default, true);
        return ReadValue(typeKey, entry.Value) is string type ? (type, true) : (null, false);
    }

    private void CheckKeyBelongs(KeySpec section, MapEntry entry, string? type, bool typeKnown)
    {
        KeySpec? key = section.Child(entry.Key);
        if (key is null)
            Report(RecipeDiagnostics.UnknownKey, entry.KeySpan, RecipeValues.Shorten(entry.Key), SectionLabel(section), UnknownKeyHint(section, entry));
        else if (key.ForTypes is not null && typeKnown && !key.ForTypes.Contains(type!))
            Report(RecipeDiagnostics.KeyNotForType, entry.KeySpan, entry.Key, $"'{section.Path}'", string.Join(" or ", key.ForTypes), type!);
        else if (key.TwoStageOnly && _singleStage && _detectorSpan is SourceSpan { HasLines: true } detector && detector.Path == _recipePath
                 && entry.KeySpan.HasLines && entry.KeySpan.Path != _recipePath)
            // A recipe that makes its base's two-stage sections meaningless is at fault, not the base: report at its detector.
            Report(RecipeDiagnostics.NeedsTwoStage, detector, $"{TwoStageStageName(key, entry)} (set in {System.IO.Path.GetFileName(entry.KeySpan.Path)} at line {entry.KeySpan.Line})",
                "detector: single-stage here");
        else if (key.TwoStageOnly && _singleStage)
            Report(RecipeDiagnostics.NeedsTwoStage, entry.KeySpan, TwoStageStageName(key, entry), DetectorWhere());
    }

    private static string SectionLabel(KeySpec section) => section.Path.Length == 0 ? "the recipe" : $"'{section.Path}'";

    private static string UnknownKeyHint(KeySpec section, MapEntry entry)
    {
        string key = entry.Key;
        if (key.IndexOf('.') > 0 && RecipeKeys.Find(section.Path.Length == 0 ? key : section.Path + "." + key) is KeySpec dotted)
            return $"; a dotted path ('{dotted.Path}') belongs to --set and variants: in a recipe, nest each part on its own line ({Nested(dotted)})";
        string near = RecipeNames.DidYouMean(key, section.Children.Select(c => c.Name));
        if (near.Length > 0) return near;
        if (ElsewhereFor(section, entry) is KeySpec elsewhere) return $"; '{key}' belongs in {SectionLabel(elsewhere.Parent!)}";
        if (RecipeSynonyms.Table.TryGetValue(key, out string? ours) && ElsewhereFor(section, entry with { Key = ours }) is KeySpec synonym)
            return $"; did you mean '{ours}'? (our name for '{key}') It belongs in {SectionLabel(synonym.Parent!)}";
        return "; expected " + string.Join(", ", section.Children.Select(c => c.Name));
    }

    /// <summary>
    /// A key of this name in another section: one whose names hold the written value first (<c>type: focal</c> under
    /// <c>loss</c> is <c>loss.cls.type</c>), then one inside this section, then any.
    /// </summary>
    private static KeySpec? ElsewhereFor(KeySpec section, MapEntry entry)
    {
        string? value = (entry.Value as ScalarNode)?.Text;
        return RecipeKeys.Root.DescendantsAndSelf()
            .Where(k => k.Name == entry.Key && k.Parent is not null && k.Parent != section)
            .OrderByDescending(k => value is not null && k.Names.Contains(value))
            .ThenByDescending(k => k.Path.StartsWith(section.Path + ".", System.StringComparison.Ordinal) || section.Path.Length == 0)
            .FirstOrDefault();
    }

    /// <summary><c>loss.carl.k</c> → <c>loss: { carl: { k: ... } }</c>.</summary>
    private static string Nested(KeySpec key)
    {
        string[] parts = key.Path.Split('.');
        return string.Join(": { ", parts) + ": ..." + string.Concat(Enumerable.Repeat(" }", parts.Length - 1));
    }

    private static string TwoStageStageName(KeySpec key, MapEntry entry)
    {
        bool scoreHlr = entry.Value is MapNode sample && sample.Find("negatives")?.Value is MapNode negatives
            && negatives.Find("type")?.Value is ScalarNode { Text: "score_hlr" };
        return scoreHlr ? "score_hlr negatives (the sample stage)" : $"the '{key.Name}' stage";
    }

    private string DetectorWhere() => _detectorSpan is SourceSpan span && span.HasLines ? $"detector at line {span.Line}" : "detector: single-stage";

    private void WalkChildSection(KeySpec key, MapEntry? entry)
    {
        switch (entry?.Value)
        {
            case null when key.Optional:
                _values.Set(new ResolvedValue(key.Path, null, "null", null));
                break;
            case null:
                WalkSection(key, null);
                break;
            case ScalarNode { IsNull: true } off when key.Optional:
                _values.Set(new ResolvedValue(key.Path, null, "null", off.Span));
                break;
            case ScalarNode { IsNull: true } off:
                Report(RecipeDiagnostics.NotOptional, off.Span, key.Path, "only optional stages (loss.cls.isr, loss.carl) can be turned off");
                WalkSection(key, null);
                break;
            case MapNode map:
                if (key.Optional) _values.Set(new ResolvedValue(key.Path, true, "on", entry.KeySpan));
                WalkSection(key, map);
                break;
            case RecipeNode other:
                Report(RecipeDiagnostics.WrongType, other.Span, key.Path, "a mapping of keys" + (key.Optional ? " or null" : ""), Describe(other));
                WalkSection(key, null);
                break;
        }
    }

    private void StoreLeaf(KeySpec key, MapEntry? entry)
    {
        object? value = entry is null ? null : ReadValue(key, entry.Value);
        if (value is null)
        {
            // Absent, or invalid and already reported: the default keeps the rest of the walk meaningful.
            if (key.Default is null) return;
            value = ReadValue(key, DefaultNode(key));
            entry = null;
        }
        _values.Set(new ResolvedValue(key.Path, value, Canonical(key, value), entry?.Value.Span));
    }

    /// <summary>A key's default as a node, read by the same code as written values.</summary>
    private static RecipeNode DefaultNode(KeySpec key) =>
        key.Kind == KeyKind.IntegerList
            ? YamlTreeReader.Read(key.Default!, "defaults", new List<DiagnosticInfo>())!
            : new ScalarNode(key.Default ?? "", false, default);

    private static string Canonical(KeySpec key, object? value) => value switch
    {
        double d => RecipeValues.FormatNumber(d),
        int i => RecipeValues.FormatInteger(i),
        bool b => RecipeValues.FormatBoolean(b),
        int[] list => RecipeValues.FormatList(list.Select(x => (long)x)),
        string s => key.Kind == KeyKind.Name ? s : RecipeValues.FormatText(s),
        _ => "null",
    };

    /// <summary>Reads a scalar (or list) for <paramref name="key"/>; reports and returns null when it is not a valid value.</summary>
    internal object? ReadValue(KeySpec key, RecipeNode node)
    {
        if (key.Kind == KeyKind.IntegerList) return ReadIntegerList(key, node);
        if (node is not ScalarNode scalar || scalar.IsNull)
        {
            Report(RecipeDiagnostics.WrongType, node.Span, key.Path, KindWords(key), Describe(node));
            return null;
        }
        return key.Kind switch
        {
            KeyKind.Number => ReadNumber(key, scalar),
            KeyKind.Integer => ReadInteger(key, scalar),
            KeyKind.Boolean => ReadBoolean(key, scalar),
            KeyKind.Name => ReadName(key, scalar),
            _ => ReadText(key, scalar),
        };
    }

    private object? ReadNumber(KeySpec key, ScalarNode scalar)
    {
        if (scalar.Quoted || !RecipeValues.TryParseNumber(scalar.Text, out double value))
            return WrongType(key, scalar);
        if (double.IsNaN(value) || double.IsInfinity(value) || !key.InRange(value))
            return OutOfRange(key, scalar);
        return value;
    }

    private object? ReadInteger(KeySpec key, ScalarNode scalar)
    {
        if (scalar.Quoted || !RecipeValues.TryParseInteger(scalar.Text, out long value))
            return WrongType(key, scalar);
        if (!key.InRange(value)) return OutOfRange(key, scalar);
        return (int)value;
    }

    private object? ReadBoolean(KeySpec key, ScalarNode scalar)
    {
        if (scalar.Quoted || !RecipeValues.TryParseBoolean(scalar.Text, out bool value)) return WrongType(key, scalar);
        return value;
    }

    private object? ReadName(KeySpec key, ScalarNode scalar)
    {
        if (key.Names.Contains(scalar.Text)) return scalar.Text;
        Report(RecipeDiagnostics.UnknownName, scalar.Span, RecipeValues.Shorten(scalar.Text), key.Path, string.Join(", ", key.Names), RecipeNames.DidYouMean(scalar.Text, key.Names));
        return null;
    }

    private object? ReadText(KeySpec key, ScalarNode scalar)
    {
        if (key.Pattern is string pattern && !Regex.IsMatch(scalar.Text, pattern, RegexOptions.CultureInvariant))
        {
            Report(RecipeDiagnostics.InvalidRecipeName, scalar.Span, RecipeValues.Shorten(scalar.Text));
            return null;
        }
        if (key.Builtins is { } builtins && scalar.Text.StartsWith("builtin:", System.StringComparison.Ordinal) && !builtins.Contains(scalar.Text))
        {
            Report(RecipeDiagnostics.UnknownName, scalar.Span, RecipeValues.Shorten(scalar.Text), "built-in data set", string.Join(", ", builtins), RecipeNames.DidYouMean(scalar.Text, builtins));
            return null;
        }
        return scalar.Text;
    }

    private object? ReadIntegerList(KeySpec key, RecipeNode node)
    {
        if (node is not ListNode list)
        {
            Report(RecipeDiagnostics.WrongType, node.Span, key.Path, KindWords(key), Describe(node));
            return null;
        }
        var items = new List<int>();
        var element = new KeySpec(key.Name, KeyKind.Integer, key.Doc) { Min = key.Min, Max = key.Max };
        element.Seal(key.Parent);
        foreach (RecipeNode item in list.Items)
            if (ReadValue(element, item) is int value) items.Add(value);
            else return null;
        return items.ToArray();
    }

    private object? WrongType(KeySpec key, ScalarNode scalar)
    {
        Report(RecipeDiagnostics.WrongType, scalar.Span, key.Path, KindWords(key), Describe(scalar));
        return null;
    }

    private object? OutOfRange(KeySpec key, ScalarNode scalar)
    {
        Report(RecipeDiagnostics.OutOfRange, scalar.Span, key.Path, RecipeValues.Shorten(scalar.Text), key.RangeText());
        return null;
    }

    private static string KindWords(KeySpec key) => key.Kind switch
    {
        KeyKind.Number => "a number " + key.RangeText(),
        KeyKind.Integer => "a whole number " + key.RangeText(),
        KeyKind.Boolean => "true or false",
        KeyKind.Name => "one of " + string.Join(", ", key.Names),
        KeyKind.IntegerList => "a list of whole numbers, e.g. [8, 11]",
        _ => "a single value",
    };

    private static string Describe(RecipeNode node) => node switch
    {
        MapNode => "a mapping",
        ListNode => "a list",
        ScalarNode { IsNull: true } => "empty",
        ScalarNode { Quoted: true } s => $"the quoted string \"{RecipeValues.Shorten(s.Text)}\"",
        ScalarNode s when s.Text.IndexOf(',') >= 0 && RecipeValues.TryParseNumber(s.Text.Replace(',', '.'), out _) => $"'{s.Text}' (the decimal separator is '.')",
        ScalarNode s => $"'{RecipeValues.Shorten(s.Text)}'",
        _ => "unknown",
    };

    private void ReadVariants(MapEntry entry)
    {
        if (entry.Value is not MapNode map)
        {
            Report(RecipeDiagnostics.WrongType, entry.Value.Span, "variants", "a mapping of dotted key → list of values", Describe(entry.Value));
            return;
        }
        var axes = new List<(MapEntry Entry, List<ScalarNode> Values)>();
        foreach (MapEntry written in map.Entries)
        {
            MapEntry axis = written;
            if (DeprecatedKeys.Replacements.TryGetValue(written.Key, out string? target))
            {
                Report(RecipeDiagnostics.DeprecatedKey, written.KeySpan, written.Key,
                    target is null ? DeprecatedKeys.Advice(written.Key) + " (this axis varies nothing and is dropped)" : DeprecatedKeys.Advice(written.Key));
                if (target is null) continue;
                axis = written with { Key = target };
            }
            if (ReadAxis(axis) is List<ScalarNode> values) axes.Add((axis, values));
        }

        // Two axes with the same short label (x.positives.type and y.positives.type would both be PositivesType) both use their full path.
        var labels = axes.Select(a => RecipeNames.AxisLabel(a.Entry.Key)).ToList();
        foreach (var (axis, values) in axes)
        {
            KeySpec key = RecipeKeys.Find(axis.Key)!;
            // Canonical text only; the values' errors are reported once, when each point is validated.
            var scratch = new RecipeValidator(new List<DiagnosticInfo>());
            var canonical = values.Select(v => scratch.ReadValue(key, v) is object value ? Canonical(key, value) : v.Text).ToList();
            _axes.Add(new VariantAxisNodes(axis.Key, axis.KeySpan, RecipeNames.AxisLabel(axis.Key, full: labels.Count(l => l == RecipeNames.AxisLabel(axis.Key)) > 1), values, canonical));
        }
        int points = _axes.Aggregate(1, (n, a) => n * a.Values.Count);
        if (points > MaxPoints)
            Report(RecipeDiagnostics.BadVariants, entry.KeySpan, $"the variants make {points} points; at most {MaxPoints} are allowed");
    }

    /// <summary>A sweep larger than this is a mistake, not a plan (and would generate that many classes).</summary>
    public const int MaxPoints = 256;

    private List<ScalarNode>? ReadAxis(MapEntry axis)
    {
        KeySpec? key = RecipeKeys.Find(axis.Key);
        if (key is null)
        {
            Report(RecipeDiagnostics.UnknownKey, axis.KeySpan, axis.Key, "'variants'", RecipeNames.DidYouMean(axis.Key, RecipeKeys.Variables.Select(v => v.Path)));
            return null;
        }
        if (!key.Variable)
        {
            Report(RecipeDiagnostics.BadVariants, axis.KeySpan, $"'{axis.Key}' cannot vary: a variant axis is a single value (not a section, a list, recipe or base)");
            return null;
        }
        if (axis.Value is not ListNode { Items.Count: > 0 } list)
        {
            Report(RecipeDiagnostics.BadVariants, axis.Value.Span, $"variants.{axis.Key} must be a non-empty list of values, e.g. [1, 2]");
            return null;
        }
        var values = new List<ScalarNode>();
        foreach (RecipeNode item in list.Items)
        {
            if (item is not ScalarNode scalar)
                Report(RecipeDiagnostics.BadVariants, item.Span, $"variants.{axis.Key} lists single values, not {Describe(item)}");
            else if (values.Any(v => v.Text == scalar.Text))
                Report(RecipeDiagnostics.BadVariants, item.Span, $"'{scalar.Text}' appears twice in variants.{axis.Key}");
            else
            {
                values.Add(scalar);
                continue;
            }
            return null;
        }
        return values;
    }
}
