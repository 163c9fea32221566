using Pisa.Recipes;

namespace Pisa.Generators;

// The generator's model: plain, value-equal records (the recipe model plus where the code goes), so the
// incremental pipeline can tell an unchanged recipe from a changed one. Never a symbol, syntax node or Location.

/// <summary>A recipe file handed in as an AdditionalFile.</summary>
internal sealed record RecipeFile(string Path, string Text);

/// <summary>An attributed partial class: where it lives and the settings its attributes make.</summary>
/// <param name="Namespace">The class's namespace ("" for the global one).</param>
/// <param name="ClassName">The class's name.</param>
/// <param name="Accessibility">public or internal.</param>
/// <param name="Settings">Each attribute's "key path → value" pairs, located on the attribute.</param>
/// <param name="Diagnostics">Problems found before the recipe rules (a class that is not partial, nested, generic).</param>
internal sealed record AttributedClass(
    string Namespace, string ClassName, string Accessibility, SourceSpan Origin,
    ImmutableEquatableArray<LocatedSetting> Settings, ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>One pipeline to emit: a resolved recipe (or variant point) and the type that receives it.</summary>
/// <param name="Namespace">Namespace of the generated type.</param>
/// <param name="TypeName">The generated type's simple name.</param>
/// <param name="FillsUserClass">True when the type is the user's attributed partial class.</param>
/// <param name="Accessibility">public or internal.</param>
/// <param name="Origin">The recipe file or class the pipeline came from (for the header comment).</param>
/// <param name="HintName">The generated file's name.</param>
/// <param name="Origins">Where each explicitly set value was written (the recipe's equality leaves locations out; the
/// generated comments cite them, so they are part of what decides whether the file changes).</param>
internal sealed record PipelineSpec(Recipe Recipe, string Namespace, string TypeName, bool FillsUserClass, string Accessibility, string Origin, string HintName,
    ImmutableEquatableArray<ValueOrigin> Origins)
{
    public string FullName => Namespace.Length == 0 ? TypeName : Namespace + "." + TypeName;
}

/// <summary>Where one value of a recipe was written: key path, file name and line.</summary>
internal sealed record ValueOrigin(string Path, string File, int Line);

/// <summary>What one input (a recipe file or an attributed class) produces: its pipelines and its diagnostics.</summary>
internal sealed record RecipeOutput(ImmutableEquatableArray<PipelineSpec> Pipelines, ImmutableEquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>Stand-ins for the pipelines a recipe with errors would have generated.</summary>
    public ImmutableEquatableArray<StubSpec> Stubs { get; init; } = ImmutableEquatableArray<StubSpec>.Empty;
}

/// <summary>
/// A stand-in for a pipeline its recipe's errors keep from being generated: the type, with every member throwing the
/// recipe's first error, so code that names it compiles and the build shows the recipe error alone.
/// </summary>
/// <param name="Recipe">The recipe's name; <paramref name="Variant"/> the variant point's, as the real pipeline would have them.</param>
/// <param name="Error">The first error, as the build prints it (file name, line, column, id, message).</param>
internal sealed record StubSpec(string Namespace, string TypeName, bool FillsUserClass, string Accessibility, string Origin, string Recipe, string? Variant, string Error)
{
    public string FullName => Namespace.Length == 0 ? TypeName : Namespace + "." + TypeName;

    public string HintName => FullName + ".g.cs";
}

/// <summary>The catalog's line for one pipeline.</summary>
internal sealed record CatalogEntry(string Recipe, string? Variant, string FullName, bool TwoStage, string ResolvedRecipe);

/// <summary>Step names, for incremental tests (Mapperly-style tracked steps).</summary>
public static class TrackingNames
{
    public const string RecipeFiles = nameof(RecipeFiles);
    public const string AllRecipeFiles = nameof(AllRecipeFiles);
    public const string YamlRecipes = nameof(YamlRecipes);
    public const string AttributedRecipes = nameof(AttributedRecipes);
    public const string Pipelines = nameof(Pipelines);
    public const string Catalog = nameof(Catalog);
}
