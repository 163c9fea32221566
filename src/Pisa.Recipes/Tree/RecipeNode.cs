using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>
/// The front-door-neutral form of a recipe: a located tree of keys and values. The YAML reader produces it from a
/// file, <see cref="RecipeTree.FromSettings"/> from "key path → value" pairs (attributes, <c>--set</c>, variant
/// points), and one validator (<see cref="RecipeValidator"/>) turns it into the model and its diagnostics.
/// </summary>
public abstract record RecipeNode(SourceSpan Span);

/// <summary>A scalar as written. <paramref name="Quoted"/> scalars are always strings; plain ones are typed by the key they set.</summary>
public sealed record ScalarNode(string Text, bool Quoted, SourceSpan Span) : RecipeNode(Span)
{
    /// <summary>YAML's null: an empty plain value, <c>~</c> or <c>null</c>.</summary>
    public bool IsNull => !Quoted && Text is "" or "~" or "null" or "Null" or "NULL";
}

public sealed record MapEntry(string Key, SourceSpan KeySpan, RecipeNode Value);

public sealed record MapNode(ImmutableEquatableArray<MapEntry> Entries, SourceSpan Span) : RecipeNode(Span)
{
    public MapEntry? Find(string key) => Entries.FirstOrDefault(e => e.Key == key);

    public MapNode Without(string key) => this with { Entries = Entries.Where(e => e.Key != key).ToEquatableArray() };
}

public sealed record ListNode(ImmutableEquatableArray<RecipeNode> Items, SourceSpan Span) : RecipeNode(Span);

/// <summary>A "key path → value" pair from a front door that has no tree of its own (an attribute argument, an override).</summary>
/// <param name="Path">Dotted key path, e.g. <c>loss.carl.k</c>.</param>
/// <param name="KeySpan">Where the key was written (an attribute's argument, <c>--set loss.carl.k=2</c>).</param>
public sealed record LocatedSetting(string Path, RecipeNode Value, SourceSpan KeySpan);

/// <summary>Building and layering trees.</summary>
public static class RecipeTree
{
    /// <summary>Nests dotted paths into one map: <c>loss.carl.k=1, loss.carl.bias=0.2</c> → <c>loss: {carl: {k: 1, bias: 0.2}}</c>.</summary>
    public static MapNode FromSettings(IEnumerable<LocatedSetting> settings, SourceSpan origin)
    {
        var root = new MapNode(ImmutableEquatableArray<MapEntry>.Empty, origin);
        foreach (LocatedSetting setting in settings)
            root = (MapNode)Overlay(root, Nest(setting.Path.Split('.'), 0, setting));
        return root;
    }

    private static MapNode Nest(string[] keys, int index, LocatedSetting setting)
    {
        RecipeNode value = index == keys.Length - 1 ? setting.Value : Nest(keys, index + 1, setting);
        return new MapNode(ImmutableEquatableArray.Create(new MapEntry(keys[index], setting.KeySpan, value)), setting.KeySpan);
    }

    /// <summary>
    /// Lays <paramref name="top"/> over <paramref name="bottom"/>: maps merge key by key (recursively), anything else
    /// replaces. A map that sets a different <c>type</c> replaces the whole map, because the other type's options
    /// (a sampler's <c>num_bins</c>, say) mean nothing for the new type.
    /// </summary>
    public static RecipeNode Overlay(RecipeNode bottom, RecipeNode top)
    {
        if (bottom is not MapNode below || top is not MapNode above) return top;
        if (ChangesType(below, above)) return above;
        var entries = new List<MapEntry>();
        foreach (MapEntry entry in below.Entries)
        {
            MapEntry? over = above.Find(entry.Key);
            entries.Add(over is null ? entry : over with { Value = Overlay(entry.Value, over.Value) });
        }
        entries.AddRange(above.Entries.Where(e => below.Find(e.Key) is null));
        return new MapNode(entries.ToEquatableArray(), above.Span);
    }

    private static bool ChangesType(MapNode below, MapNode above) =>
        below.Find("type")?.Value is ScalarNode was && above.Find("type")?.Value is ScalarNode now && was.Text != now.Text;

    /// <summary>Moves every span of a tree to one place (a value parsed from <c>--set</c> text points at the override).</summary>
    public static RecipeNode Relocate(RecipeNode node, SourceSpan span) => Relocate(node, span, new Dictionary<object, RecipeNode>(ReferenceComparer.Instance));

    // Aliases make one node appear many times; relocating each node once keeps "billion laughs" text linear.
    private static RecipeNode Relocate(RecipeNode node, SourceSpan span, Dictionary<object, RecipeNode> done)
    {
        if (done.TryGetValue(node, out RecipeNode? moved)) return moved;
        moved = node switch
        {
            ScalarNode scalar => scalar with { Span = span },
            ListNode list => new ListNode(list.Items.Select(i => Relocate(i, span, done)).ToEquatableArray(), span),
            MapNode map => new MapNode(map.Entries.Select(e => new MapEntry(e.Key, span, Relocate(e.Value, span, done))).ToEquatableArray(), span),
            _ => node,
        };
        done[node] = moved;
        return moved;
    }

    private sealed class ReferenceComparer : IEqualityComparer<object>
    {
        public static readonly ReferenceComparer Instance = new();

        public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);

        public int GetHashCode(object obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }
}
