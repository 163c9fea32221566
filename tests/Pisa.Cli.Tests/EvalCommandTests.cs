using System.Diagnostics;

using Pisa.Evaluation.Tests;

namespace Pisa.Cli.Tests;

/// <summary><c>pisa eval --gt … --detections … [--json …]</c> run in-process: output layout, JSON, exit codes.</summary>
public sealed class EvalCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pisa-eval-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string SharedCase(string name, string file) => RepoPaths.InShared("eval-cases", name, file);

    private static (int Code, string Output, string Error) Pisa(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Prints_the_twelve_lines_in_the_reference_layout_then_AP_per_category()
    {
        // tiny-gt-tie's expected.json rounded to 3 decimals: AP 0.40198, AP50 1, AP75 0.25248, APl 0.60396, AR1 0.1, AR10 = AR100 = ARl 0.6.
        var (code, output, _) = Pisa("eval", "--gt", SharedCase("tiny-gt-tie", "instances.json"), "--detections", SharedCase("tiny-gt-tie", "detections.json"));
        Assert.Equal(PisaApp.Ok, code);
        string[] expected =
        [
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.402",
            " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000",
            " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.252",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.604",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.100",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.600",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.600",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.600",
        ];
        string[] lines = output.Split('\n');
        Assert.Equal(expected, lines[..12]);
        Assert.Contains(lines, line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1", "class_1", "0.402"]);
    }

    [Fact]
    public void Json_output_matches_the_case_and_passes_eval_compare()
    {
        string folder = RepoPaths.InShared("eval-cases", "categories-without-detections");
        string json = Path.Combine(_folder, "out", "numbers.json");
        var (code, _, _) = Pisa("eval", "--gt", Path.Combine(folder, "instances.json"), "--detections", Path.Combine(folder, "detections.json"), "--json", json);
        Assert.Equal(PisaApp.Ok, code);
        EvalCase.AssertMatches(EvalCase.Expected(folder), EvalCase.Numbers(File.ReadAllText(json)));

        var compare = Process.Start(new ProcessStartInfo("python3", [RepoPaths.InShared("tools", "eval_compare.py"), Path.Combine(folder, "expected.json"), json])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string verdict = compare.StandardOutput.ReadToEnd() + compare.StandardError.ReadToEnd();
        compare.WaitForExit();
        Assert.True(compare.ExitCode == 0, verdict);
        Assert.StartsWith("worst", verdict);
    }

    [Fact]
    public void A_bad_results_file_is_a_user_error_naming_the_file_and_entry()
    {
        string results = Path.Combine(_folder, "results.json");
        File.WriteAllText(results, """[{"image_id":1,"category_id":1,"bbox":[100,120,-50,80],"score":0.9}]""");
        var (code, output, error) = Pisa("eval", "--gt", SharedCase("tiny-perfect", "instances.json"), "--detections", results, "--json", Path.Combine(_folder, "never.json"));
        Assert.Equal(PisaApp.UserError, code);
        Assert.Equal("", output);
        Assert.Contains($"{results}: entry 0 of the list", error);
        Assert.Contains("width -50 is negative", error);
        Assert.False(File.Exists(Path.Combine(_folder, "never.json")));
    }

    [Fact]
    public void A_missing_ground_truth_file_is_a_user_error()
    {
        string missing = Path.Combine(_folder, "missing.json");
        var (code, _, error) = Pisa("eval", "--gt", missing, "--detections", SharedCase("tiny-perfect", "detections.json"));
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains($"{missing}: file not found", error);
    }

    [Fact]
    public void Detections_without_ground_truth_is_a_user_error()
    {
        var (code, _, error) = Pisa("eval", "--detections", SharedCase("tiny-perfect", "detections.json"));
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains("--gt", error);
    }

    [Fact]
    public void Data_without_a_run_is_a_user_error()
    {
        var (code, _, error) = Pisa("eval", "--data", "somewhere", "--gt", SharedCase("tiny-perfect", "instances.json"), "--detections", SharedCase("tiny-perfect", "detections.json"));
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains("--data", error);
    }

    [Fact]
    public void Evaluating_a_missing_run_is_a_user_error_naming_it()
    {
        var (code, _, error) = Pisa("eval", "runs/some-run");
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains("runs/some-run: no such run folder or checkpoint", error);
    }

    [Fact]
    public void A_run_and_files_together_are_a_user_error()
    {
        var (code, _, error) = Pisa("eval", "runs/some-run", "--gt", SharedCase("tiny-perfect", "instances.json"), "--detections", SharedCase("tiny-perfect", "detections.json"));
        Assert.Equal(PisaApp.UserError, code);
        Assert.Contains("not both", error);
    }

    [Fact]
    public void Help_shows_the_file_options_but_not_the_benchmark()
    {
        var (code, output, _) = Pisa("eval", "--help");
        Assert.Equal(PisaApp.Ok, code);
        Assert.Contains("--gt", output);
        Assert.Contains("--detections", output);
        Assert.Contains("--json", output);
        Assert.DoesNotContain("synthetic", output);
    }
}
