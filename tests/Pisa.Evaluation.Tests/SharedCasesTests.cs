namespace Pisa.Evaluation.Tests;

/// <summary>Every golden case in shared/eval-cases: each stat and per-category AP (including -1) within 1e-4.</summary>
public class SharedCasesTests
{
    private static readonly string Root = RepoPaths.InShared("eval-cases");

    public static TheoryData<string> Cases => EvalCase.Folders(Root);

    [Fact]
    public void The_shared_cases_folder_holds_the_twelve_documented_cases()
    {
        Assert.Equal(12, Cases.Count);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_its_expected_numbers(string name)
    {
        string folder = Path.Combine(Root, name);
        EvalCase.AssertMatches(EvalCase.Expected(folder), EvalCase.Numbers(EvalCase.Evaluate(folder)));
    }
}
