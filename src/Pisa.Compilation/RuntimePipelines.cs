using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pisa.Generators;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;

namespace Pisa.Compilation;

/// <summary>The pipelines of one recipe, compiled at run time, with how long that took.</summary>
public sealed record RuntimePipelineSet(IReadOnlyList<PipelineInfo> Pipelines, bool FromCache, TimeSpan Elapsed)
{
    /// <summary>The pipeline of the recipe itself, or of the named variant point.</summary>
    public PipelineInfo Select(Recipe recipe) =>
        Pipelines.FirstOrDefault(p => p.Variant == recipe.Variant && p.Recipe == recipe.Name)
        ?? throw new InvalidOperationException($"the compiled recipe has no pipeline '{recipe.Variant ?? recipe.Name}'");
}

/// <summary>A recipe's generated code or compilation failed; the diagnostics say where (a bug, since the recipe had checked clean).</summary>
public sealed class RecipeCompilationException(string message) : Exception(message);

/// <summary>
/// Runs any resolved recipe through the same generator a build uses. The recipe goes in as its resolved form (base chain,
/// overrides and defaults applied, variants kept), so the generated pipelines are those a build of that text produces.
/// </summary>
public sealed class RuntimePipelines(RecipeCompiler compiler)
{
    public static RuntimePipelines Default { get; } = new(new RecipeCompiler(RecipeCompiler.DefaultCacheDirectory));

    /// <summary>Compiles (or loads from the cache) every pipeline of <paramref name="recipe"/>: the recipe's, or each variant point's.</summary>
    /// <param name="recipe">The resolved recipe as loaded (not a variant point).</param>
    public RuntimePipelineSet Compile(Recipe recipe)
    {
        var compiled = compiler.Compile([AsRecipeFile(recipe)]);
        if (!compiled.Succeeded)
            throw new RecipeCompilationException($"recipe '{recipe.Name}' did not compile:\n" + string.Join("\n", compiled.Diagnostics));
        return new RuntimePipelineSet(Catalog(compiled.Assembly!), compiled.FromCache, compiled.Elapsed);
    }

    /// <summary>The generated C# of every pipeline of <paramref name="recipe"/>, by generated file name.</summary>
    public static IReadOnlyDictionary<string, string> GenerateSources(Recipe recipe)
    {
        var (path, text) = AsRecipeFile(recipe);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            generators: [new RecipeGenerator().AsSourceGenerator()],
            additionalTexts: [new InMemoryAdditionalText(path, text)],
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest));
        driver = driver.RunGenerators(CSharpCompilation.Create("Explain", [], RecipeCompiler.References));
        return driver.GetRunResult().Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
    }

    /// <summary>The recipe as the generator reads it: its resolved form, in a file named after it.</summary>
    public static (string Path, string Text) AsRecipeFile(Recipe recipe) =>
        (Path.Combine("resolved", recipe.Name + ".yaml"), ResolvedRecipeWriter.Write(recipe));

    private static IReadOnlyList<PipelineInfo> Catalog(Assembly assembly)
    {
        var catalog = assembly.GetType("Pisa.Pipelines.RecipeCatalog") ?? throw new RecipeCompilationException("the compiled recipe has no catalog");
        return (IReadOnlyList<PipelineInfo>)catalog.GetProperty("All")!.GetValue(null)!;
    }
}
