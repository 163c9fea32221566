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
