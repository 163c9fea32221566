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

    private static readonly string[] TypeSwaps = ["\"text\"", "[1, 2]", "{ a: 1 }", "true", "~", "", "abc", "0x1F", "1e400", ".nan", "-.inf", "'0.5'", "&a 1", "*a", "!!int 3"];
    private static readonly string[] Numbers = ["-1", "-0.0001", "0", "1.5", "2", "1e9", "2147483648", "-2147483649", "0.5", "3", "0,5", "1_000"];
    private static readonly string[] Punctuation = [":", "{", "}", "[", "]", ",", "#", "\"", "'", "|", ">", "- ", "---\n", "<<: ", "&x ", "*x", "\t", "? ", "%YAML 1.2\n", "@",
        "\"\\U0000D800\"", "\"\\x4\"", "\\", "\u0000", "\uFEFF", "\u2028", "%TAG ! tag:x,2000:\n", "!local ", "? [a]\n: 1\n", "... \n"];

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
            for (int e = 0; e < edits; e++) mutant = Mutate(mutant, random);
            string[] overrides = random.Next(10) == 0 ? [$"{RecipeKeys.Variables[random.Next(RecipeKeys.Variables.Count)].Path}={Numbers[random.Next(Numbers.Length)]}"] : [];

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

    private static string Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        int at = random.Next(lines.Count);
        switch (random.Next(8))
        {
            case 0: // delete a line
                lines.RemoveAt(at);
                break;
            case 1: // duplicate a line
                lines.Insert(at, lines[at]);
                break;
            case 2: // misspell a key: drop, double, swap or replace one letter before the colon
                lines[at] = MisspellKey(lines[at], random);
                break;
            case 3: // swap a value's type
                lines[at] = ReplaceValue(lines[at], TypeSwaps[random.Next(TypeSwaps.Length)], random);
                break;
            case 4: // an out-of-range or odd number
                lines[at] = ReplaceValue(lines[at], Numbers[random.Next(Numbers.Length)], random);
                break;
            case 5: // break the indentation
                lines[at] = random.Next(2) == 0 ? new string(' ', 1 + random.Next(3)) + lines[at] : lines[at].TrimStart();
                break;
            case 6: // YAML punctuation somewhere in a line
                int column = random.Next(lines[at].Length + 1);
                lines[at] = lines[at].Insert(column, Punctuation[random.Next(Punctuation.Length)]);
                break;
            default: // truncate the file
                string joined = string.Join("\n", lines);
                return joined.Substring(0, random.Next(joined.Length + 1));
        }
        return string.Join("\n", lines);
    }

    private static string MisspellKey(string line, Random random)
    {
        int colon = line.IndexOf(':');
        int start = line.Length - line.TrimStart(' ', '{', '-').Length;
        if (colon <= start + 1) return line;
        int i = start + random.Next(colon - start - 1);
        return random.Next(4) switch
        {
            0 => line.Remove(i, 1),
            1 => line.Insert(i, line[i].ToString()),
            2 => line.Substring(0, i) + line[i + 1] + line[i] + line.Substring(i + 2),
            _ => line.Substring(0, i) + (char)('a' + random.Next(26)) + line.Substring(i + 1),
        };
    }

    private static string ReplaceValue(string line, string value, Random random)
    {
        // Replace the text after one of the line's ": " (flow mappings have several).
        var colons = Enumerable.Range(0, line.Length).Where(i => line[i] == ':' && i + 1 < line.Length && line[i + 1] == ' ').ToList();
        if (colons.Count == 0) return line;
        int colon = colons[random.Next(colons.Count)] + 2;
        int end = line.IndexOfAny([',', '}'], colon);
        return line.Substring(0, colon) + value + (end < 0 ? "" : line.Substring(end));
    }
}
