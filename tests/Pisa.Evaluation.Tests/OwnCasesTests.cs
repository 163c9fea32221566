namespace Pisa.Evaluation.Tests;

/// <summary>
/// Our hand-derived cases (Cases/README.md holds each derivation): one per convention of the reference evaluator,
/// plus the one place we differ from it on purpose (annotation id 0).
/// </summary>
public class OwnCasesTests
{
    private static readonly string Root = RepoPaths.InRoot("tests", "Pisa.Evaluation.Tests", "Cases");

    public static TheoryData<string> Cases => EvalCase.Folders(Root);

    [Fact]
    public void Every_case_folder_is_complete_and_described_in_the_readme()
    {
        string readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        foreach (string folder in Directory.GetDirectories(Root))
        {
            string name = Path.GetFileName(folder);
            foreach (string file in new[] { "instances.json", "detections.json", "expected.json" })
                Assert.True(File.Exists(Path.Combine(folder, file)), $"{name}/{file} is missing");
            Assert.Contains($"## `{name}`", readme);
        }
        Assert.Equal(10, Cases.Count);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_its_hand_derived_numbers(string name)
    {
        string folder = Path.Combine(Root, name);
        EvalCase.AssertMatches(EvalCase.Expected(folder), EvalCase.Numbers(EvalCase.Evaluate(folder)));
    }
}
