using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pisa.Generators;

namespace Pisa.Compilation;

/// <summary>The outcome of compiling recipes at run time: the loaded assembly, or the diagnostics that stopped it.</summary>
public sealed record CompiledRecipes(Assembly? Assembly, IReadOnlyList<Diagnostic> Diagnostics, bool FromCache, TimeSpan Elapsed)
{
    public bool Succeeded => Assembly is not null;
}

/// <summary>
/// Compiles recipe files with the in-process <see cref="RecipeGenerator"/> (a <see cref="CSharpGeneratorDriver"/>),
/// emits the assembly in memory, and caches it on disk keyed by a hash of the inputs and of the generator and
/// kernel assemblies, so a second run of the same recipe loads instantly.
/// </summary>
public sealed class RecipeCompiler(string cacheDirectory)
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences);

    /// <summary>What generated pipelines compile against: the platform, TorchSharp, the kernels and the recipe model.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>The default cache folder: $PISA_CACHE, else $XDG_CACHE_HOME/pisa, else ~/.cache/pisa.</summary>
    public static string DefaultCacheDirectory =>
        Environment.GetEnvironmentVariable("PISA_CACHE") is { Length: > 0 } explicitPath ? explicitPath
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "pisa", "pipelines");

    /// <summary>Compiles the given recipe texts (path → YAML) into one assembly, or loads it from the cache.</summary>
    public CompiledRecipes Compile(IReadOnlyList<(string Path, string Text)> recipes)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string key = CacheKey(recipes);
        string cached = Path.Combine(cacheDirectory, key + ".dll");
        if (File.Exists(cached))
            return new CompiledRecipes(LoadIsolated(cached), [], FromCache: true, clock.Elapsed);

        var (assemblyBytes, diagnostics) = Generate(recipes, $"Pisa.Pipelines.Runtime.{key[..16]}");
        if (assemblyBytes is null)
            return new CompiledRecipes(null, diagnostics, FromCache: false, clock.Elapsed);

        Directory.CreateDirectory(cacheDirectory);
        string temp = cached + $".{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temp, assemblyBytes);
        File.Move(temp, cached, overwrite: true);
        return new CompiledRecipes(LoadIsolated(cached), diagnostics, FromCache: false, clock.Elapsed);
    }

    /// <summary>Runs the generator and the compiler; returns the image, or null with the errors.</summary>
    public static (byte[]? Image, IReadOnlyList<Diagnostic> Diagnostics) Generate(IReadOnlyList<(string Path, string Text)> recipes, string assemblyName)
    {
        var compilation = CSharpCompilation.Create(assemblyName, [], References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                optimizationLevel: OptimizationLevel.Release, deterministic: true));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            generators: [new RecipeGenerator().AsSourceGenerator()],
            additionalTexts: recipes.Select(r => (AdditionalText)new InMemoryAdditionalText(r.Path, r.Text)),
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);

        var diagnostics = generatorDiagnostics.ToList();
        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)) return (null, diagnostics);

        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        diagnostics.AddRange(emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        return emitted.Success ? (image.ToArray(), diagnostics) : (null, diagnostics);
    }

    private static string CacheKey(IReadOnlyList<(string Path, string Text)> recipes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) { hash.AppendData(Encoding.UTF8.GetBytes(s)); hash.AppendData([0]); }
        // The generator, the kernels and the model decide what the text becomes: their identities are part of the key.
        foreach (var assembly in new[] { typeof(RecipeGenerator).Assembly, typeof(Pisa.Kernels.Pipeline.ISamplePipeline).Assembly, typeof(Pisa.Recipes.Recipe).Assembly })
            Add(assembly.ManifestModule.ModuleVersionId.ToString());
        foreach (var (path, text) in recipes.OrderBy(r => r.Path, StringComparer.Ordinal))
        {
            Add(Path.GetFileName(path));
            Add(text);
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    // Each compiled recipe set lives in its own collectible context; shared contracts come from the default context.
    private static Assembly LoadIsolated(string path) =>
        new AssemblyLoadContext($"pisa-recipes:{Path.GetFileName(path)}", isCollectible: true).LoadFromAssemblyPath(path);

    // The framework, TorchSharp, the kernels and the recipe model — and nothing else: an application assembly may hold
    // pipelines of its own (compiled-in recipes), which would clash with the ones being compiled.
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string frameworkFolder = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var paths = Directory.GetFiles(frameworkFolder, "*.dll").Where(IsManagedAssembly).ToList();
        foreach (var assembly in new[] { typeof(Pisa.Kernels.Pipeline.ISamplePipeline).Assembly, typeof(TorchSharp.torch).Assembly, typeof(Pisa.Recipes.Recipe).Assembly })
            paths.Add(assembly.Location);
        return [.. paths.Distinct(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
