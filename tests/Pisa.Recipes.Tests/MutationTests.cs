using Pisa.Recipes;
using Xunit.Abstractions;

namespace Pisa.Recipes.Tests;

/// <summary>
/// Thousands of seeded mutants of the shipped recipes (deleted and duplicated lines, misspelt keys, swapped types,
/// out-of-range numbers, broken indentation, YAML punctuation, truncation): every one gives either a clean recipe or
/// located errors. An exception escaping the loader fails the test, with the mutant that caused it.
/// </summary>
public class MutationTests(ITestOutputHelper output)
{
    private const int Mutants = 6000;
    /// <summary>Fixed, so a failure reproduces; PISA_MUTATION_SEED explores others.</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("PISA_MUTATION_SEED"), out int seed) ? seed : 20240613;


    [Fact]
    public void Every_mutant_gives_a_clean_recipe_or_located_errors()
    {
        var shipped = TestRecipes.ShippedNames.ToDictionary(n => TestRecipes.PathOf(n), n => File.ReadAllText(TestRecipes.PathOf(n)));
        var paths = shipped.Keys.Order(StringComparer.Ordinal).ToArray();
        var random = new Random(Seed);
        int clean = 0, broken = 0;
        var byId = new SortedDictionary<string, int>(StringComparer.Ordinal);

        for (int i = 0; i < Mutants; i++)
        {
            string path = paths[random.Next(paths.Length)];
            string mutant = shipped[path];
            int edits = 1 + random.Next(3);
            for (int e = 0; e < edits; e++) mutant = RecipeMutator.Mutate(mutant, random);
            string[] overrides = random.Next(10) == 0 ? [$"{RecipeKeys.Variables[random.Next(RecipeKeys.Variables.Count)].Path}={RecipeMutator.Numbers[random.Next(RecipeMutator.Numbers.Length)]}"] : [];

            var files = new Dictionary<string, string>(shipped) { [path] = mutant };
            RecipeLoadResult result;
            try
            {
                result = new RecipeLoader(new InMemoryRecipeSource(files)).LoadFile(path, overrides);
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutant {i} of {Path.GetFileName(path)} (overrides: {string.Join(" ", overrides)}) threw {ex}\n--- mutant ---\n{mutant}");
                throw;
            }

            if (result.HasErrors)
            {
                broken++;
                Assert.Null(result.Recipe);
                foreach (DiagnosticInfo d in result.Diagnostics)
                {
                    Assert.True(d.Span.HasLines || d.Span.Path.StartsWith("--set ", StringComparison.Ordinal), $"mutant {i}: unlocated {d}\n{mutant}");
                    byId[d.Id] = byId.GetValueOrDefault(d.Id) + 1;
                }
            }
            else
            {
                clean++;
                Assert.NotEmpty(result.Pipelines);
                foreach (Recipe recipe in result.Pipelines)
                    Assert.DoesNotContain(recipe.Settings, s => s.Value.Contains("NaN") || s.Value.Contains("Infinity"));
                // A recipe that checks clean prints a resolved form that reads back as the same recipe.
                Recipe reread = new RecipeLoader(new InMemoryRecipeSource([])).LoadText(ResolvedRecipeWriter.Write(result.Recipe!), path).Recipe
                    ?? throw new Xunit.Sdk.XunitException($"mutant {i}: its resolved form does not load\n{mutant}");
                Assert.Equal(result.Recipe! with { BaseChain = reread.BaseChain }, reread);
            }
        }

        output.WriteLine($"{Mutants} mutants (seed {Seed}): {clean} clean, {broken} with located errors");
        output.WriteLine(string.Join(", ", byId.Select(kv => $"{kv.Key}: {kv.Value}")));
        Assert.Equal(Mutants, clean + broken);
        Assert.True(broken > Mutants / 2, "most mutants should break a rule; the mutator has gone soft");
        Assert.True(byId.Count >= 12, $"the mutants reached only {byId.Count} rules");
    }
}
