namespace Pisa.Cli.Tests;

/// <summary><c>pisa compare RUN… [--out DIR]</c> over hand-written run folders.</summary>
[Collection(nameof(CliRunner))]
public sealed class CompareCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pisa-compare-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Run(string recipeFolder, string variant, string resolvedRecipe, params string[] metricsLines)
    {
        string path = Path.Combine(_folder, "runs", recipeFolder, variant, "20260101-000000");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "recipe.resolved.yaml"), resolvedRecipe);
        File.WriteAllLines(Path.Combine(path, "metrics.jsonl"), metricsLines);
        return path;
    }

    [Fact]
    public void Tabulates_each_runs_last_evaluation_wall_time_and_finite_losses_as_markdown_and_csv()
    {
        // alpha: two evaluations (the second is the one reported), finite losses, wall time 61.6 s.
        string alpha = Run("alpha", "default", "recipe: alpha\ndetector: two-stage\n",
            """{"step": 20, "loss": 1.5, "lr": 0.01, "wall_s": 10}""",
            """{"step": 40, "AP": 0.1, "AP50": 0.2, "AP75": 0.05, "APs": 0, "APm": 0.1, "APl": -1, "score_iou_pearson": 0.1, "score_iou_count": 9, "epoch": 1, "wall_s": 25}""",
            """{"step": 60, "loss": 1.25, "lr": 0.01, "wall_s": 40}""",
            """{"step": 80, "AP": 0.31234, "AP50": 0.5, "AP75": 0.25, "APs": 0.125, "APm": 0.375, "APl": -1, "score_iou_pearson": 0.42, "score_iou_count": 17, "epoch": 2, "wall_s": 61.6}""");
        // beta, a variant point: a loss window went NaN (logged as null), and its only evaluation had no correlation.
        string beta = Run("beta", "beta_lr_high", "recipe: beta\ncompat: mmdet\ndetector: single-stage\nloss: { cls: { type: focal } }\n",
            """{"step": 20, "loss": 3.5, "loss_cls": 2, "lr": 0.1, "wall_s": 3}""",
            """{"step": 40, "AP": 0, "AP50": 0, "AP75": 0, "APs": 0, "APm": 0, "APl": -1, "score_iou_count": 1, "epoch": 1, "wall_s": 7.2}""",
            """{"step": 60, "loss": null, "loss_cls": null, "lr": 0.1, "wall_s": 9.5}""");
        string outDir = Path.Combine(_folder, "out");

        var (code, output, error) = CliRunner.Run("compare", alpha, beta, "--out", outDir);

        Assert.True(code == PisaApp.Ok, error);
        Assert.Equal(
            [
                "recipe,variant,AP,AP50,AP75,APs,APm,score_iou_pearson,wall_s,finite_losses",
                "alpha,default,0.3123,0.5000,0.2500,0.1250,0.3750,0.4200,62,yes",
                "beta,beta_lr_high,0.0000,0.0000,0.0000,0.0000,0.0000,n/a,10,no",
            ],
            File.ReadAllLines(Path.Combine(outDir, "compare.csv")));
        Assert.Equal(
            [
                "| recipe | variant | AP | AP50 | AP75 | APs | APm | score_iou_pearson | wall_s | finite_losses |",
                "|---|---|---|---|---|---|---|---|---|---|",
                "| alpha | default | 0.3123 | 0.5000 | 0.2500 | 0.1250 | 0.3750 | 0.4200 | 62 | yes |",
                "| beta | beta_lr_high | 0.0000 | 0.0000 | 0.0000 | 0.0000 | 0.0000 | n/a | 10 | no |",
            ],
            File.ReadAllLines(Path.Combine(outDir, "compare.md")));
        // The printed table has the same cells.
        Assert.Contains("score_iou_pearson", output);
        Assert.Matches(@"alpha\s*[│|]\s*default\s*[│|]\s*0\.3123", output);
        Assert.Matches(@"beta\s*[│|]\s*beta_lr_high\s*[│|].*n/a\s*[│|]\s*10\s*[│|]\s*no", output);
    }

    [Fact]
    public void A_folder_that_is_not_a_run_is_a_user_error_naming_it()
    {
        string empty = Path.Combine(_folder, "not-a-run");
        Directory.CreateDirectory(empty);

        var (code, _, error) = CliRunner.Run("compare", empty);

        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains(Path.Combine(empty, "recipe.resolved.yaml"), error);
    }
}
