using System.Linq;
using Pisa.Recipes;

namespace Pisa.Generators;

// The generator's model: plain, value-equal records (the recipe model plus where the code goes), so the
// incremental pipeline can tell an unchanged recipe from a changed one. Never a symbol, syntax node or Location.

/// <summary>A recipe file handed in as an AdditionalFile, and the <c>base:</c> it names (null for none).</summary>
internal sealed record RecipeFile(string Path, string Text, string? BaseName);

/// <summary>
/// Everything one recipe's parse reads: the file, the project files of its base chain, and the recipe files of the
/// folders where a base was looked for and not found (for "did you mean"). A parse re-runs only when this changes:
/// an edit to one recipe re-parses that file and the files that inherit it.
/// </summary>
/// <param name="Bases">The project files the base chain reads, nearest first (shipped bases are not project files).</param>
/// <param name="Listed">Paths of the recipe files in the folders where a base was not found; empty when every base was.</param>
internal sealed record RecipeInput(RecipeFile File, ImmutableEquatableArray<RecipeFile> Bases, ImmutableEquatableArray<string> Listed);

/// <summary>An attributed class and the project files its <c>Base</c> reads (see <see cref="RecipeInput"/>).</summary>
/// <param name="BaseFolder">Where <c>Base</c> is looked up first: a recipe file's folder, the class's folder for a path, or null for the shipped recipes.</param>
internal sealed record AttributedInput(AttributedClass Class, string? BaseFolder, ImmutableEquatableArray<RecipeFile> Bases, ImmutableEquatableArray<string> Listed);

/// <summary>An attributed partial class: where it lives and the settings its attributes make.</summary>
/// <param name="Namespace">The class's namespace ("" for the global one).</param>
/// <param name="ClassName">The class's name.</param>
/// <param name="Accessibility">public or internal.</param>
/// <param name="Settings">Each attribute's "key path → value" pairs, located on the attribute.</param>
/// <param name="Diagnostics">Problems found before the recipe rules (a class that is not partial, nested, generic).</param>
internal sealed record AttributedClass(
    string Namespace, string ClassName, string Accessibility, SourceSpan Origin,
    ImmutableEquatableArray<LocatedSetting> Settings, ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// The part of a resolved recipe that decides the generated code: its name, the stages and the box coder. Run settings
/// (<c>train:</c>), the backbone (<c>model:</c>) and proposal counts (<c>rpn:</c>) are left out, so editing them
/// re-emits no pipeline (the catalog, which carries the whole resolved recipe, is regenerated).
/// </summary>
internal sealed record PipelineRecipe(string Name, string? Variant, CompatMode Compat, DetectorKind Detector, BoxCoderKind BoxCoder,
    AssignSettings Assign, SampleSettings? Sample, LossSettings Loss)
{
    /// <summary>The recipe sections whose values the generated code holds and whose lines its comments cite.</summary>
    private static readonly string[] CodeSections = { "compat", "detector", "box_coder", "assign", "sample", "loss" };

    public static PipelineRecipe Of(Recipe recipe) =>
        new(recipe.Name, recipe.Variant, recipe.Compat, recipe.Detector, recipe.BoxCoder, recipe.Assign, recipe.Sample, recipe.Loss);

    public static bool IsCodeSetting(string path) => CodeSections.Any(section => path == section || path.StartsWith(section + ".", System.StringComparison.Ordinal));
}

/// <summary>One pipeline to emit: a resolved recipe's code-deciding part (or a variant point's) and the type that receives it.</summary>
/// <param name="Namespace">Namespace of the generated type.</param>
/// <param name="TypeName">The generated type's simple name.</param>
/// <param name="FillsUserClass">True when the type is the user's attributed partial class.</param>
/// <param name="Accessibility">public or internal.</param>
/// <param name="Origin">The recipe file or class the pipeline came from (for the header comment).</param>
/// <param name="HintName">The generated file's name.</param>
/// <param name="Origins">Where each explicitly set value of <see cref="PipelineRecipe.IsCodeSetting">the code's sections</see> was written (the
/// recipe's equality leaves locations out; the generated comments cite them, so they are part of what decides whether
/// the file changes).</param>
internal sealed record PipelineSpec(PipelineRecipe Recipe, string Namespace, string TypeName, bool FillsUserClass, string Accessibility, string Origin, string HintName,
    ImmutableEquatableArray<ValueOrigin> Origins)
{
    public string FullName => Namespace.Length == 0 ? TypeName : Namespace + "." + TypeName;
}

/// <summary>Where one value of a recipe was written: key path, file name and line.</summary>
internal sealed record ValueOrigin(string Path, string File, int Line);

/// <summary>
/// What one input (a recipe file or an attributed class) produces: its pipelines, their catalog lines and its
/// diagnostics. The parse makes every diagnostic; the emitter only writes code for pipelines the checker accepted.
/// </summary>
internal sealed record RecipeOutput(ImmutableEquatableArray<PipelineSpec> Pipelines, ImmutableEquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>One line per pipeline, in the same order: the resolved recipe in full, <c>train:</c> included.</summary>
    public ImmutableEquatableArray<CatalogEntry> Catalog { get; init; } = ImmutableEquatableArray<CatalogEntry>.Empty;

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

/// <summary>Step names, for incremental tests (Mapperly-style tracked steps), in pipeline order.</summary>
public static class TrackingNames
{
    /// <summary>Each recipe file read, with the base it names (per file).</summary>
    public const string RecipeFiles = nameof(RecipeFiles);
    /// <summary>Every recipe file, sorted by path (one value; re-runs on any recipe edit, cheaply).</summary>
    public const string AllRecipeFiles = nameof(AllRecipeFiles);
    /// <summary>Each recipe file with the project files its base chain reads (per file; cheap, no YAML read).</summary>
    public const string RecipeInputs = nameof(RecipeInputs);
    /// <summary>The parse of each YAML recipe (per file): runs only when its <see cref="RecipeInputs"/> value changed.</summary>
    public const string YamlRecipes = nameof(YamlRecipes);
    /// <summary>Each attributed class with the project files its <c>Base</c> reads.</summary>
    public const string AttributedInputs = nameof(AttributedInputs);
    /// <summary>The parse of each attributed class.</summary>
    public const string AttributedRecipes = nameof(AttributedRecipes);
    /// <summary>Every parse's output joined, duplicates refused (one value).</summary>
    public const string Merged = nameof(Merged);
    /// <summary>Each diagnostic to report.</summary>
    public const string Diagnostics = nameof(Diagnostics);
    /// <summary>Each pipeline to emit.</summary>
    public const string Pipelines = nameof(Pipelines);
    /// <summary>Each stand-in for a recipe with errors.</summary>
    public const string Stubs = nameof(Stubs);
    /// <summary>The catalog's lines (one value).</summary>
    public const string Catalog = nameof(Catalog);
}
