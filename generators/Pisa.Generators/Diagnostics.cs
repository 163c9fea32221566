using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Pisa.Recipes;
using RecipeSeverity = Pisa.Recipes.DiagnosticSeverity;

namespace Pisa.Generators;

/// <summary>
/// The one descriptor table: every recipe rule of <see cref="RecipeDiagnostics"/> (PISA0001…), plus the few that only a
/// build can find (PISA0100…: C# declarations, its own failure, two inputs generating one type; never a recipe rule, so
/// the build refuses nothing that <c>pisa check</c> accepts). Diagnostics travel through the pipeline as data
/// (<see cref="DiagnosticInfo"/>) and become Roslyn <see cref="Diagnostic"/>s only here, in the output step.
/// </summary>
internal static class Diagnostics
{
    private const string Category = "Pisa.Recipes";

    public static readonly DiagnosticDescriptorInfo NotPartial = new("PISA0100", "Recipe class must be partial",
        "class '{0}' has [Recipe] but is not partial: the generator fills it in, so declare it 'partial class {0}'", RecipeSeverity.Error);
    public static readonly DiagnosticDescriptorInfo NestedOrGeneric = new("PISA0101", "Recipe class must be a top-level, non-generic class",
        "class '{0}' has [Recipe] but is {1}: declare recipes as top-level, non-generic partial classes", RecipeSeverity.Error);
    // PISA0102 (stage combination not supported by the kernels) was the emitter's own rule; it is the checker's PISA0029 now.
    public static readonly DiagnosticDescriptorInfo GeneratorFailure = new("PISA0103", "Recipe generator failure",
        "the recipe generator failed on this input (a bug in Pisa.Dsl, please report it): {0}", RecipeSeverity.Error);
    public static readonly DiagnosticDescriptorInfo DuplicatePipeline = new("PISA0104", "Duplicate pipeline name",
        "two recipes generate the type '{0}' ({1} and {2}): rename one recipe", RecipeSeverity.Error);

    // Release tracking: AnalyzerReleases.*.md lists every rule (checked by a test; not fed to RS2000-series analyzers,
    // which cannot see descriptors made from the recipe table).

    /// <summary>The build-only rules, in id order.</summary>
    public static IReadOnlyList<DiagnosticDescriptorInfo> GeneratorOnly { get; } = new[] { NotPartial, NestedOrGeneric, GeneratorFailure, DuplicatePipeline };

    private static readonly Dictionary<string, DiagnosticDescriptor> Descriptors =
        RecipeDiagnostics.All.Concat(GeneratorOnly).ToDictionary(d => d.Id, ToDescriptor);

    public static IEnumerable<DiagnosticDescriptor> All => Descriptors.Values;

    public static DiagnosticInfo Create(DiagnosticDescriptorInfo descriptor, SourceSpan span, params string[] arguments) =>
        RecipeDiagnostics.Create(descriptor, span, arguments);

    /// <summary>Makes the Roslyn diagnostic, located in the YAML file (or .cs file) by path, text span and line span.</summary>
    public static Diagnostic ToDiagnostic(DiagnosticInfo info)
    {
        DiagnosticDescriptor descriptor = Descriptors.TryGetValue(info.Id, out var known) ? known : ToDescriptor(info.Descriptor);
        return Diagnostic.Create(descriptor, ToLocation(info.Span), info.Arguments.Cast<object>().ToArray());
    }

    private static Location ToLocation(SourceSpan span)
    {
        if (!span.HasLines) return Location.None;
        var lines = new LinePositionSpan(new LinePosition(span.Line - 1, span.Column - 1), new LinePosition(span.EndLine - 1, span.EndColumn - 1));
        return Location.Create(span.Path, new TextSpan(span.StartIndex, System.Math.Max(0, span.EndIndex - span.StartIndex)), lines);
    }

    private static DiagnosticDescriptor ToDescriptor(DiagnosticDescriptorInfo info) => new(
        info.Id, info.Title, info.MessageFormat, Category,
        info.Severity == RecipeSeverity.Error ? Microsoft.CodeAnalysis.DiagnosticSeverity.Error : Microsoft.CodeAnalysis.DiagnosticSeverity.Warning,
        isEnabledByDefault: true);
}
