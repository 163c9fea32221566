using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>
/// A loaded recipe: the resolved recipe (null when it has errors), one resolved recipe per variant point, and every
/// diagnostic (de-duplicated, ordered by file, line and column).
/// </summary>
public sealed record RecipeLoadResult(Recipe? Recipe, ImmutableEquatableArray<Recipe> Points, ImmutableEquatableArray<DiagnosticInfo> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>
    /// The pipeline types the recipe declares (<see cref="Recipe.TypeName"/> of each of <see cref="Pipelines"/>), known
    /// as far as the text allows even when it has errors: the generator emits stand-ins under these names, so a broken
    /// recipe is one error, not one more wherever code names its pipeline.
    /// </summary>
    public ImmutableEquatableArray<string> TypeNames { get; init; } = ImmutableEquatableArray<string>.Empty;

    /// <summary>The recipe's name as written (else its file's name), known like <see cref="TypeNames"/> despite errors.</summary>
    public string RecipeName { get; init; } = "";

    /// <summary>What a build generates: one pipeline per variant point, or the recipe itself when it has no variants.</summary>
    public IEnumerable<Recipe> Pipelines => Points.Count > 0 ? Points : Recipe is null ? Enumerable.Empty<Recipe>() : new[] { Recipe };

    /// <summary>
    /// The variant point called <paramref name="name"/>: its full name (<c>PisaSweep_IsrK1_CarlBias0</c>, any case) or the
    /// part after the recipe's type name (<c>IsrK1_CarlBias0</c>). Null with an error naming the nearest point otherwise.
    /// </summary>
    public Recipe? SelectVariant(string name, out DiagnosticInfo? error)
    {
        error = null;
        if (Recipe is null) return null;
        string prefix = Recipe.TypeName + "_";
        Recipe? point = Points.FirstOrDefault(p => string.Equals(p.TypeName, name, System.StringComparison.OrdinalIgnoreCase)
            || string.Equals(p.TypeName, prefix + name, System.StringComparison.OrdinalIgnoreCase));
        if (point is not null) return point;
        string hint = Points.Count == 0
            ? " (it has no variants)"
            : RecipeNames.DidYouMean(name.StartsWith(prefix, System.StringComparison.OrdinalIgnoreCase) ? name : prefix + name, Points.Select(p => p.TypeName)) is { Length: > 0 } near
                ? near
                : "; its variants are " + string.Join(", ", Points.Select(p => p.TypeName));
        error = RecipeDiagnostics.Create(RecipeDiagnostics.UnknownVariant, SourceSpan.Whole("--variant " + name), Recipe.Name, name, hint);
        return null;
    }
}
