namespace Pisa.Cli.Tests;

/// <summary><c>pisa check</c>, <c>explain</c> and <c>variants</c> on the shipped and broken recipes.</summary>
public class RecipeCommandTests
{
    private static string Recipe(string name) => RepoPaths.InRoot("recipes", name + ".yaml");

    [Fact]
    public void Check_of_the_shipped_recipes_is_clean()
    {
        var (code, output, error) = CliRunner.Run("check", RepoPaths.InRoot("recipes"));
        Assert.Equal(PisaApp.Ok, code);
        Assert.DoesNotContain("error PISA", output + error);
    }

    [Fact]
    public void Check_of_the_broken_corpus_lists_located_errors_and_exits_1()
    {
        var (code, output, error) = CliRunner.Run("check", RepoPaths.InRoot("tests", "Pisa.Recipes.Tests", "Broken"));
        Assert.Equal(PisaApp.UserError, code);
        Assert.Matches(@"base-not-found\.yaml\(3,7\): error PISA0010: base 'faster-rnn' not found", output + error);
    }

    [Fact]
    public void Explain_prints_the_resolved_recipe_the_stage_graph_and_the_generated_code()
    {
        var (code, output, _) = CliRunner.Run("explain", Recipe("pisa-faster-rcnn"), "--set", "loss.carl.k=2");
        Assert.Equal(PisaApp.Ok, code);
        Assert.Contains("# --- resolved recipe ---", output);
        Assert.Contains("# --- stage graph ---", output);
        Assert.Contains("# --- generated pipeline (C#) ---", output);
        Assert.Contains("carl: new global::Pisa.Kernels.ReweightSettings(2.0, 0.2)", output);
    }

    [Fact]
    public void Explain_with_an_out_of_range_override_is_a_located_user_error()
    {
        var (code, _, error) = CliRunner.Run("explain", Recipe("pisa-faster-rcnn"), "--set", "loss.carl.k=-1");
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains("--set loss.carl.k=-1", error);
        Assert.Contains("PISA0006", error);
    }

    [Fact]
    public void Variants_lists_the_four_sweep_points()
    {
        var (code, output, _) = CliRunner.Run("variants", Recipe("pisa-sweep"));
        Assert.Equal(PisaApp.Ok, code);
        foreach (string point in new[] { "PisaSweep_IsrK1_CarlBias0", "PisaSweep_IsrK1_CarlBias0p2", "PisaSweep_IsrK2_CarlBias0", "PisaSweep_IsrK2_CarlBias0p2" })
            Assert.Contains(point, output);
    }

    [Fact]
    public void Bench_recipe_compiles_any_recipe_file_at_run_time_and_runs_its_pipeline()
    {
        var (code, output, error) = CliRunner.Run("bench", "recipe", Recipe("retinanet"), "--set", "loss.box.loss_weight=2");
        Assert.True(code == PisaApp.Ok, error);
        Assert.Contains("Retinanet compiled at run time", output);
        Assert.Matches(@"loss_cls=\d+\.\d{4}, loss_bbox=\d+\.\d{4}", output);
    }
}
