namespace Pisa.Cli.Tests;

/// <summary>The command line lists the spec's commands and maps outcomes to the spec's exit codes.</summary>
public class CliSkeletonTests
{
    [Fact]
    public void Help_lists_every_command_of_the_spec()
    {
        var (code, output, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        foreach (string command in new[] { "train", "eval", "check", "explain", "variants", "conformance", "bench" })
            Assert.Matches($@"(?m)^\s+{command}\s", output);
    }

    [Fact]
    public void Bench_is_a_branch_of_one_command_per_benchmark()
    {
        var (code, output, _) = CliRunner.Run("bench", "--help");
        Assert.Equal(0, code);
        foreach (string command in new[] { "kernels", "step", "roialign", "recipe", "generator" })
            Assert.Matches($@"(?m)^\s+{command}\b", output);

        var (unknown, _, error) = CliRunner.Run("bench", "everything");
        Assert.Equal(PisaApp.UserError, unknown);
        Assert.Contains("everything", error);
    }

    [Fact]
    public void A_missing_recipe_for_bench_step_is_named()
    {
        var (code, _, error) = CliRunner.Run("bench", "step", "no-such-recipe.yaml");
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains("no-such-recipe.yaml", error);
    }

    [Theory]
    [InlineData("step")]
    [InlineData("generator")]
    public void A_wall_clock_benchmark_refuses_the_cpu_clock(string benchmark)
    {
        var (code, _, error) = CliRunner.Run("bench", benchmark, "--clock", "cpu");
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains($"pisa bench {benchmark}: measures wall time only", error);
    }

    [Fact]
    public void Version_prints_the_assembly_version()
    {
        var (code, output, _) = CliRunner.Run("--version");
        Assert.Equal(0, code);
        Assert.Equal(typeof(PisaApp).Assembly.GetName().Version!.ToString(3), output.Trim());
    }

    [Fact]
    public void An_unknown_command_is_a_user_error()
    {
        var (code, _, error) = CliRunner.Run("frobnicate");
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains("frobnicate", error);
    }
}
