using System;
using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>What a key holds.</summary>
public enum KeyKind { Section, Number, Integer, Boolean, Name, Text, IntegerList, Variants }

/// <summary>
/// One key of the recipe language: its kind, range, names, default and documentation. <see cref="RecipeKeys"/> is
/// the tree of them; the validator, the resolved-form writer, the JSON Schema and the attribute map all read it.
/// </summary>
public sealed class KeySpec
{
    public KeySpec(string name, KeyKind kind, string doc) => (Name, Kind, Doc) = (name, kind, doc);

    public string Name { get; }
    public KeyKind Kind { get; }
    public string Doc { get; }

    /// <summary>Dotted path from the root (<c>loss.carl.k</c>); set when the tree is built.</summary>
    public string Path { get; private set; } = "";
    public KeySpec? Parent { get; private set; }

    /// <summary>The default as YAML text (<c>0.5</c>, <c>random</c>, <c>[8, 11]</c>); null when required or a section.</summary>
    public string? Default { get; init; }
    public bool Required { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }
    /// <summary>A value allowed outside [Min, Max] that means "off" (<c>-1</c> for floor_thr and neg_pos_ub).</summary>
    public double? Sentinel { get; init; }
    public IReadOnlyList<string> Names { get; init; } = Array.Empty<string>();
    /// <summary>A regular expression a text value must match, with what it means.</summary>
    public string? Pattern { get; init; }
    /// <summary>Text keys: a value starting with <c>builtin:</c> names a built-in, and must be one of these (a closed set).</summary>
    public IReadOnlyList<string>? Builtins { get; init; }
    /// <summary>Only valid when the sibling <c>type</c> is one of these.</summary>
    public IReadOnlyList<string>? ForTypes { get; init; }
    /// <summary>Sections: may be written as null (off), and are off unless written.</summary>
    public bool Optional { get; init; }
    /// <summary>Sections that only a two-stage detector has.</summary>
    public bool TwoStageOnly { get; init; }
    /// <summary>Whether <c>--set</c> and <c>variants:</c> may target it (scalar run or pipeline values).</summary>
    public bool Variable => Kind is KeyKind.Number or KeyKind.Integer or KeyKind.Boolean or KeyKind.Name or KeyKind.Text && Path is not ("recipe" or "base");

    private readonly List<KeySpec> _children = new();
    public IReadOnlyList<KeySpec> Children => _children;

    public KeySpec? Child(string name) => _children.FirstOrDefault(c => c.Name == name);

    /// <summary>The <c>type</c> child of a section whose options depend on its type.</summary>
    public KeySpec? TypeKey => Child("type");

    internal KeySpec With(params KeySpec[] children)
    {
        foreach (KeySpec child in children) _children.Add(child);
        return this;
    }

    internal KeySpec Seal(KeySpec? parent)
    {
        Parent = parent;
        Path = parent is null || parent.Path.Length == 0 ? Name : parent.Path + "." + Name;
        foreach (KeySpec child in _children) child.Seal(this);
        return this;
    }

    /// <summary>This key and every key below it, depth first in declaration order.</summary>
    public IEnumerable<KeySpec> DescendantsAndSelf()
    {
        yield return this;
        foreach (KeySpec child in _children)
            foreach (KeySpec key in child.DescendantsAndSelf()) yield return key;
    }

    /// <summary>The range in words: <c>in [0, 1]</c>, <c>&gt; 0</c>, <c>-1 (no cap) or ≥ 0</c>.</summary>
    public string RangeText()
    {
        // int.MaxValue only guards the conversion to int; it is no limit worth stating.
        double? max = Max >= int.MaxValue ? null : Max;
        string range = (Min, max) switch
        {
            (double lo, double hi) => $"in {(MinExclusive ? "(" : "[")}{RecipeValues.FormatPlain(lo)}, {RecipeValues.FormatPlain(hi)}{(MaxExclusive ? ")" : "]")}",
            (double lo, null) => $"{(MinExclusive ? ">" : ">=")} {RecipeValues.FormatPlain(lo)}",
            (null, double hi) => $"{(MaxExclusive ? "<" : "<=")} {RecipeValues.FormatPlain(hi)}",
            _ => "any value",
        };
        return Sentinel is double s ? $"{RecipeValues.FormatPlain(s)} (off) or {range}" : range;
    }

    public bool InRange(double value)
    {
        if (Sentinel is double s && value == s) return true;
        if (Min is double lo && (MinExclusive ? value <= lo : value < lo)) return false;
        if (Max is double hi && (MaxExclusive ? value >= hi : value > hi)) return false;
        return true;
    }

    public override string ToString() => Path;
}
