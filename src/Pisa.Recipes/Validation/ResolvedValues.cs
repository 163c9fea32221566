using System.Collections.Generic;

namespace Pisa.Recipes;

/// <summary>A validated value: typed (double, int, bool, string, int[] or null for a stage that is off), its canonical text, and where it was set (null for a default).</summary>
internal sealed record ResolvedValue(string Path, object? Value, string Canonical, SourceSpan? Span);

/// <summary>The validated leaves of one recipe, in key-declaration order.</summary>
internal sealed class ResolvedValues
{
    private readonly Dictionary<string, ResolvedValue> _byPath = new();
    private readonly List<ResolvedValue> _inOrder = new();

    public IReadOnlyList<ResolvedValue> InOrder => _inOrder;

    public void Set(ResolvedValue value)
    {
        if (_byPath.ContainsKey(value.Path)) _inOrder.RemoveAll(v => v.Path == value.Path);
        _byPath[value.Path] = value;
        _inOrder.Add(value);
    }

    public ResolvedValue? Find(string path) => _byPath.TryGetValue(path, out ResolvedValue? value) ? value : null;

    public SourceSpan? SpanOf(string path) => Find(path)?.Span;

    public double Number(string path) => (double)_byPath[path].Value!;

    public int Integer(string path) => (int)_byPath[path].Value!;

    public bool Boolean(string path) => (bool)_byPath[path].Value!;

    public string Text(string path) => (string)_byPath[path].Value!;

    public bool IsOn(string path) => _byPath.TryGetValue(path, out ResolvedValue? value) && value.Value is not null;

    public T Name<T>(string path) where T : struct => RecipeEnums.Parse<T>(Text(path));
}
