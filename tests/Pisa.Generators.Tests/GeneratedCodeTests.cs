using Microsoft.CodeAnalysis;

namespace Pisa.Generators.Tests;

/// <summary>Every shipped recipe and variant point generates code that compiles cleanly; the code is snapshot-pinned.</summary>
public class GeneratedCodeTests
{
    [Fact]
    public void Every_shipped_recipe_generates_code_that_compiles_with_no_error_and_no_warning()
    {
        var (sources, generatorDiagnostics, compileDiagnostics) = GeneratorHarness.Run(GeneratorHarness.ShippedRecipes());
        Assert.Empty(generatorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Empty(compileDiagnostics);
        Assert.Contains("RecipeCatalog.g.cs", sources.Keys);
        Assert.Contains("Pisa.Pipelines.PisaFasterRcnn.g.cs", sources.Keys);
    }

    [Fact]
    public void Generated_code_never_synchronises_the_host()
    {
        var (sources, _, _) = GeneratorHarness.Run(GeneratorHarness.ShippedRecipes());
        var offending = sources.SelectMany(s => s.Value.Split('\n').Where(line => HostSync.Call().IsMatch(line)).Select(line => $"{s.Key}: {line.Trim()}")).ToList();
        Assert.True(offending.Count == 0, string.Join("\n", offending));
        Assert.Contains(sources.Values, s => s.Contains("ScoreHlrNegatives")); // the scan saw real pipelines
    }

    public static TheoryData<string> GeneratedFiles()
    {
        var data = new TheoryData<string>();
        foreach (var hint in GeneratorHarness.Run(GeneratorHarness.ShippedRecipes()).Sources.Keys.OrderBy(k => k, StringComparer.Ordinal)) data.Add(hint);
        return data;
    }

    [Theory]
    [MemberData(nameof(GeneratedFiles))]
    public void Generated_file_matches_its_snapshot(string hintName)
    {
        var (sources, _, _) = GeneratorHarness.Run(GeneratorHarness.ShippedRecipes());
        Snapshot.Verify(sources[hintName], hintName.Replace(".g.cs", ""), "cs");
    }
}
