using System.Text;
using Microsoft.CodeAnalysis;

namespace Pisa.Generators.Tests;

/// <summary>Diagnostics of broken inputs, pinned as a snapshot; the release-tracking file lists every rule.</summary>
public class DiagnosticTests
{
    [Fact]
    public void The_broken_recipe_corpus_gives_these_build_diagnostics()
    {
        var shipped = GeneratorHarness.ShippedRecipes().ToArray();
        var text = new StringBuilder();
        foreach (string path in Directory.GetFiles(RepoPaths.InRoot("tests", "Pisa.Recipes.Tests", "Broken"), "*.yaml").Order(StringComparer.Ordinal))
        {
            // Each broken file sits beside the shipped recipes, as if it were one of them.
            string asShipped = Path.Combine(RepoPaths.InRoot("recipes"), Path.GetFileName(path));
            var (_, diagnostics, _) = GeneratorHarness.Run(shipped.Where(r => r.Path != asShipped).Append((asShipped, File.ReadAllText(path))));
            var ofThisFile = diagnostics.Where(d => d.Location.GetLineSpan().Path == asShipped).ToList();
            Assert.NotEmpty(ofThisFile);
            foreach (var d in ofThisFile.OrderBy(d => d.Location.GetLineSpan().StartLinePosition))
            {
                var where = d.Location.GetLineSpan();
                text.Append(Path.GetFileName(where.Path)).Append('(').Append(where.StartLinePosition.Line + 1).Append(',')
                    .Append(where.StartLinePosition.Character + 1).Append("): ").Append(d.Severity.ToString().ToLowerInvariant())
                    .Append(' ').Append(d.Id).Append(": ").Append(d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Replace(RepoPaths.Root, "<repo>")).Append('\n');
            }
        }
        Snapshot.Verify(text.ToString(), "broken-corpus", "txt");
    }

    [Fact]
    public void Every_rule_is_listed_in_the_release_tracking_file_with_its_severity()
    {
        string unshipped = File.ReadAllText(RepoPaths.InRoot("generators", "Pisa.Generators", "AnalyzerReleases.Unshipped.md"));
        foreach (var descriptor in Diagnostics.All)
            Assert.Contains($"{descriptor.Id} | Pisa.Recipes | {descriptor.DefaultSeverity} |", unshipped);
    }
}
