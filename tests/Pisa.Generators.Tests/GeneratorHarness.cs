using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pisa.Compilation;
using Pisa.Generators;

namespace Pisa.Generators.Tests;

/// <summary>Runs the recipe generator on recipe texts and C# sources, the way a build does, and compiles the result.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static IEnumerable<(string Path, string Text)> ShippedRecipes() =>
        Directory.GetFiles(RepoPaths.InRoot("recipes"), "*.yaml").OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (Path: p, Text: File.ReadAllText(p)));

    public static CSharpCompilation NewCompilation(params string[] sources) => CSharpCompilation.Create("Consumer",
        sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
        RecipeCompiler.References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver NewDriver(IEnumerable<(string Path, string Text)> recipes) => CSharpGeneratorDriver.Create(
        [new RecipeGenerator().AsSourceGenerator()],
        recipes.Select(r => (AdditionalText)new InMemoryAdditionalText(r.Path, r.Text)),
        ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Generates and compiles; returns the generated sources by hint name and every diagnostic of both.</summary>
    public static (ImmutableDictionary<string, string> Sources, ImmutableArray<Diagnostic> GeneratorDiagnostics, ImmutableArray<Diagnostic> CompileDiagnostics)
        Run(IEnumerable<(string Path, string Text)> recipes, params string[] sources)
    {
        var driver = NewDriver(recipes).RunGeneratorsAndUpdateCompilation(NewCompilation(sources), out var output, out var generatorDiagnostics);
        var result = driver.GetRunResult().Results.Single();
        if (result.Exception is not null) throw new InvalidOperationException("The generator threw.", result.Exception);
        var generated = result.GeneratedSources.ToImmutableDictionary(s => s.HintName, s => s.SourceText.ToString());
        var compile = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
        return (generated, generatorDiagnostics, compile);
    }
}
