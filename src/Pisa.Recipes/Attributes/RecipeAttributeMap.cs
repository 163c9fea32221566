using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;

namespace Pisa.Recipes;

/// <summary>
/// Attribute arguments → "key path → value" pairs, for both readers of attributes: the generator (Roslyn's
/// AttributeData, enums arriving as their numbers) and <see cref="Read"/> (reflection, for tests and tools).
/// The pairs then go through <see cref="RecipeLoader.LoadSettings"/>: the same validation as YAML.
/// </summary>
public static class RecipeAttributeMap
{
    /// <summary>Attribute name (without "Attribute") → its section and the key its constructor argument sets.</summary>
    public static IReadOnlyDictionary<string, (string Section, string? ConstructorKey)> Sections { get; } =
        new Dictionary<string, (string, string?)>(StringComparer.Ordinal)
        {
            ["Recipe"] = ("", "recipe"),
            ["Assign"] = ("assign", null),
            ["Rpn"] = ("rpn", null),
            ["Sample"] = ("sample", null),
            ["PositiveSampler"] = ("sample.positives", "type"),
            ["NegativeSampler"] = ("sample.negatives", "type"),
            ["PositiveRank"] = ("rank.positives", "type"),
            ["NegativeRank"] = ("rank.negatives", "type"),
            ["ClassificationLoss"] = ("loss.cls", "type"),
            ["Isr"] = ("loss.cls.isr", null),
            ["BoxLoss"] = ("loss.box", "type"),
            ["Carl"] = ("loss.carl", null),
            ["Model"] = ("model", null),
            ["Train"] = ("train", null),
        };

    /// <summary>
    /// The settings one attribute makes. <paramref name="constructorArguments"/> and <paramref name="namedArguments"/>
    /// hold plain values: strings, numbers, bools, enums or their numbers, and arrays of those. Unknown attributes make none.
    /// </summary>
    public static IEnumerable<LocatedSetting> Settings(string attributeName, IReadOnlyList<object?> constructorArguments,
        IEnumerable<KeyValuePair<string, object?>> namedArguments, SourceSpan span)
    {
        string name = attributeName.EndsWith("Attribute", StringComparison.Ordinal) ? attributeName.Substring(0, attributeName.Length - "Attribute".Length) : attributeName;
        if (name == "Variant")
        {
            if (constructorArguments.Count > 0 && constructorArguments[0] is string axis)
                yield return VariantSetting(axis, constructorArguments.Skip(1).SelectMany(Flatten).ToList(), span);
            yield break;
        }
        if (!Sections.TryGetValue(name, out var section)) yield break;
        if (section.ConstructorKey is string key && constructorArguments.Count > 0)
            yield return Setting(Join(section.Section, key), constructorArguments[0], span);
        foreach (var named in namedArguments)
            yield return Setting(Join(section.Section, SnakeCase(named.Key)), named.Value, span);
    }

    /// <summary>Reads a class's attributes by reflection and loads them as a recipe (bases looked up in <paramref name="baseFolder"/>).</summary>
    public static RecipeLoadResult Read(Type type, string baseFolder, RecipeLoader? loader = null)
    {
        var origin = SourceSpan.Whole(type.FullName ?? type.Name);
        var settings = CustomAttributeData.GetCustomAttributes(type)
            .Where(a => a.AttributeType.Namespace == typeof(RecipeAttribute).Namespace)
            .SelectMany(a => Settings(
                a.AttributeType.Name,
                a.ConstructorArguments.Select(Unwrap).ToList(),
                a.NamedArguments.Select(n => new KeyValuePair<string, object?>(n.MemberName, Unwrap(n.TypedValue))),
                SourceSpan.Whole($"{type.FullName} [{a.AttributeType.Name.Replace("Attribute", "")}]")))
            .ToList();
        return (loader ?? new RecipeLoader()).LoadSettings(settings, origin, baseFolder);
    }

    private static object? Unwrap(CustomAttributeTypedArgument argument) =>
        argument.Value is IEnumerable<CustomAttributeTypedArgument> items ? items.Select(Unwrap).ToArray() : argument.Value;

    private static IEnumerable<object?> Flatten(object? value) =>
        value is IEnumerable items and not string ? items.Cast<object?>().SelectMany(Flatten) : new[] { value };

    private static string Join(string section, string key) => section.Length == 0 ? key : section + "." + key;

    /// <summary><c>NegPosUb</c> → <c>neg_pos_ub</c>; <c>IoU</c> is one word (<c>PosIoU</c> → <c>pos_iou</c>).</summary>
    public static string SnakeCase(string pascal)
    {
        pascal = pascal.Replace("IoU", "Iou");
        var text = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0) text.Append('_');
            text.Append(char.ToLowerInvariant(pascal[i]));
        }
        return text.ToString();
    }

    private static LocatedSetting Setting(string path, object? value, SourceSpan span) =>
        new(path, Node(RecipeKeys.Find(path), value, span), span);

    private static LocatedSetting VariantSetting(string axis, List<object?> values, SourceSpan span)
    {
        var list = new ListNode(values.Select(v => Node(RecipeKeys.Find(axis), v, span)).ToEquatableArray(), span);
        var map = new MapNode(ImmutableEquatableArray.Create(new MapEntry(axis, span, list)), span);
        return new LocatedSetting("variants", map, span);
    }

    /// <summary>An argument as the node YAML would have produced: enums (or their numbers) as the key's names, strings quoted.</summary>
    private static RecipeNode Node(KeySpec? key, object? value, SourceSpan span)
    {
        return value switch
        {
            null => new ScalarNode("", false, span),
            Enum e when key is { Kind: KeyKind.Name } => new ScalarNode(NameAt(key, Convert.ToInt32(e, CultureInfo.InvariantCulture)), false, span),
            int i when key is { Kind: KeyKind.Name } => new ScalarNode(NameAt(key, i), false, span),
            bool b => new ScalarNode(RecipeValues.FormatBoolean(b), false, span),
            double d => new ScalarNode(RecipeValues.FormatPlain(d), false, span),
            float f => new ScalarNode(RecipeValues.FormatPlain(f), false, span),
            IConvertible number when value is int or long or short or byte => new ScalarNode(number.ToString(CultureInfo.InvariantCulture), false, span),
            string s => new ScalarNode(s, key is not { Kind: KeyKind.Name }, span),
            IEnumerable items => new ListNode(items.Cast<object?>().Select(v => Node(key, v, span)).ToEquatableArray(), span),
            _ => new ScalarNode(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", true, span),
        };
    }

    /// <summary>Enum members are declared in the order of the key's names (a test holds them together).</summary>
    private static string NameAt(KeySpec key, int index) =>
        index >= 0 && index < key.Names.Count ? key.Names[index] : index.ToString(CultureInfo.InvariantCulture);
}
