using System;
using System.Collections;
using System.Collections.Generic;

namespace Pisa.Recipes;

/// <summary>
/// A read-only array compared by its elements, so records holding one stay value-equal. This is what lets the
/// source generator cache recipe models between runs (an <see cref="Array"/> or <c>ImmutableArray</c> compares by reference).
/// </summary>
public sealed class ImmutableEquatableArray<T> : IEquatable<ImmutableEquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    private readonly T[] _items;

    public static ImmutableEquatableArray<T> Empty { get; } = new(Array.Empty<T>());

    public ImmutableEquatableArray(IEnumerable<T> items) => _items = new List<T>(items).ToArray();

    public int Count => _items.Length;

    public T this[int index] => _items[index];

    public bool Equals(ImmutableEquatableArray<T>? other)
    {
        if (other is null || other.Count != Count) return false;
        for (int i = 0; i < _items.Length; i++)
            if (!EqualityComparer<T>.Default.Equals(_items[i], other._items[i])) return false;
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ImmutableEquatableArray<T>);

    public override int GetHashCode()
    {
        int hash = 17;
        foreach (T item in _items) hash = unchecked(hash * 31 + (item is null ? 0 : item.GetHashCode()));
        return hash;
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public override string ToString() => "[" + string.Join(", ", _items) + "]";
}

/// <summary>Factory for <see cref="ImmutableEquatableArray{T}"/>.</summary>
public static class ImmutableEquatableArray
{
    public static ImmutableEquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items) where T : IEquatable<T> => new(items);

    public static ImmutableEquatableArray<T> Create<T>(params T[] items) where T : IEquatable<T> => new(items);
}
