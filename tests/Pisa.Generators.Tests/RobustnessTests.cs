using Microsoft.CodeAnalysis;

namespace Pisa.Generators.Tests;

/// <summary>The generator never throws: mutants of the shipped recipes end in generated code or in located diagnostics.</summary>
public class RobustnessTests
{
    [Fact]
    public void Recipe_mutants_end_in_code_or_located_diagnostics_never_in_a_generator_failure()
    {
        var shipped = GeneratorHarness.ShippedRecipes().ToArray();
        var random = new Random(4242);
        int withErrors = 0;
        for (int i = 0; i < 300; i++)
        {
            int victim = random.Next(shipped.Length);
            string mutant = shipped[victim].Text;
            for (int e = 1 + random.Next(3); e > 0; e--) mutant = RecipeMutator.Mutate(mutant, random);
            var recipes = shipped.Select((r, j) => j == victim ? (r.Path, mutant) : r).ToArray();

            var driver = GeneratorHarness.NewDriver(recipes).RunGenerators(GeneratorHarness.NewCompilation());
            var result = driver.GetRunResult().Results.Single();
            Assert.True(result.Exception is null, $"mutant {i} threw {result.Exception}\n{mutant}");
            Assert.DoesNotContain(result.Diagnostics, d => d.Id is "PISA0103" or "CS8785");
            var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.All(errors, d => Assert.True(d.Location.GetLineSpan().IsValid, $"mutant {i}: {d} has no location"));
            if (errors.Count > 0) withErrors++;
        }
        Assert.InRange(withErrors, 100, 300); // the mutants really do break recipes
    }
}
