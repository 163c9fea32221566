namespace Pisa.Recipes;

/// <summary>
/// Where a key or value was written: a file (or an origin such as <c>--set loss.carl.k=-1</c>) and a 1-based
/// line/column range. <see cref="Line"/> 0 means the origin has no lines (a command-line override, an attribute
/// without syntax). Plain data, never a Roslyn <c>Location</c>: the generator makes one from it in its output step.
/// </summary>
public readonly record struct SourceSpan(string Path, int Line, int Column, int EndLine, int EndColumn)
{
    /// <summary>0-based character offsets of the start and end in the text (YAML files only), for Roslyn's TextSpan.</summary>
    public int StartIndex { get; init; }

    public int EndIndex { get; init; }

    public static SourceSpan Whole(string path) => new(path, 0, 0, 0, 0);

    public bool HasLines => Line > 0;

    /// <summary><c>recipes/x.yaml(12,5)</c>, or the bare origin when it has no lines.</summary>
    public override string ToString() => HasLines ? $"{Path}({Line},{Column})" : Path;
}
