using System.Diagnostics;

namespace Pisa.Cli.Tests;

/// <summary>
/// <c>pisa doctor</c> in a fresh process each time: the convolution failure it guards against showed on first use in a
/// process, so an in-process run after other tests would prove little.
/// </summary>
public class DoctorCommandTests
{
    private static (int Code, string Output) Doctor(params string[] args)
    {
        string pisa = Path.Combine(AppContext.BaseDirectory, "pisa.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", pisa, "doctor", .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment.Remove("PISA_CONV_BACKEND"); // the default policy is what is under test
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    [Fact]
    public void Convolution_and_batchnorm_backward_match_float64_on_many_random_shapes_in_a_fresh_process()
    {
        var (code, output) = Doctor("--only", "convolution", "--trials", "64");
        Assert.True(code == 0, output);
        Assert.Contains("PASS convolution: convolution + batchnorm backward vs float64: 64 random shapes", output);
    }

    [Fact]
    public void Doctor_prints_the_platform_facts_and_passes_every_check_on_a_healthy_machine()
    {
        var (code, output) = Doctor();
        Assert.True(code == 0, output);
        foreach (string fact in new[] { "cpu ", "simd ", "libtorch ", "onednn ", "onednn isa ", "convolutions ", "threads ", "native shim fix ", "pipeline cache ", "cuda " })
            Assert.Contains("\n" + fact, "\n" + output);
        Assert.Contains("PASS convolution:", output);
        Assert.Contains("PASS conformance:", output);
        Assert.Contains("PASS training:", output);
        Assert.DoesNotContain("FAIL", output);
    }

    [Fact]
    public void An_unknown_check_or_backend_is_a_user_error()
    {
        var (code, output) = Doctor("--only", "gpu");
        Assert.Equal(1, code);
        Assert.Contains("pisa doctor --only gpu: expected one of convolution, conformance, training", output);
    }
}
