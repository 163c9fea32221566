using Pisa.Conformance;
using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>The shipped cases pass through the runner, and bad case files fail with a reason instead of crashing.</summary>
public class ConformanceTests
{
    /// <summary>Our cases: tests/conformance and the few pisa doctor ships (src/Pisa.Conformance/SelfCheck).</summary>
    private static readonly string[] OwnCases = [RepoPaths.InRoot("tests", "conformance"), RepoPaths.InRoot("src", "Pisa.Conformance", "SelfCheck")];

    [Fact]
    public void Every_case_under_tests_conformance_passes()
    {
        var results = ConformanceRunner.Run(OwnCases);
        Assert.True(results.Count >= 40, $"only {results.Count} cases found");
        var failures = results.Where(r => !r.Passed).Select(r => r.ToString()).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void The_shipped_cases_cover_every_op_of_the_format()
    {
        var ops = ConformanceRunner.CaseFiles(OwnCases).Select(f => ConformanceCase.Read(f).Op).ToHashSet();
        Assert.Empty(CaseOps.All.Keys.Except(ops));
    }

    [Theory]
    [InlineData("{ not json", "bad JSON")]
    [InlineData("""{"format":"pisa-case/1","op":"l1_loss","inputs":{"pred":{"dtype":"float32","shape":[1,4],"data":[1,2,3]}},"outputs":{}}""", "needs 4 values, data has 3")]
    [InlineData("""{"format":"pisa-case/1","op":"frobnicate","inputs":{},"outputs":{}}""", "unknown op 'frobnicate'")]
    [InlineData("""{"format":"pisa-case/1","op":"l1_loss","inputs":{"pred":{"dtype":"float32","shape":[1,4],"data":[1,2,3,4]}},"outputs":{"loss":{"dtype":"float32","shape":[1,4],"data":[0,0,0,0]}}}""", "missing input 'target'")]
    [InlineData("""{"format":"pisa-case/1","op":"l1_loss","inputs":{"pred":{"dtype":"float32","shape":[1,4],"data":[1,2,3,4]},"target":{"dtype":"float32","shape":[1,4],"data":[0,0,0,0]}},"outputs":{"loss":{"dtype":"float32","shape":[4],"data":[1,2,3,4]}}}""", "shape [1,4] but the case says [4]")]
    [InlineData("""{"format":"pisa-case/1","op":"l1_loss","inputs":{"pred":{"dtype":"float32","shape":[2,4],"data":[1,2,3,4,5,6,7,8]},"target":{"dtype":"float32","shape":[3,4],"data":[0,0,0,0,0,0,0,0,0,0,0,0]}},"outputs":{"loss":{"dtype":"float32","shape":[1,4],"data":[1,2,3,4]}}}""", "the op rejected the inputs")]
    [InlineData("""{"format":"pisa-case/1","op":"delta_xywh_encode","inputs":{"proposals":{"dtype":"float32","shape":[1,3],"data":[1,2,3]},"gt":{"dtype":"float32","shape":[1,4],"data":[0,0,1,1]}},"outputs":{}}""", "input 'proposals' has shape [1,3], expected [*,4]")]
    [InlineData("""{"format":"pisa-case/1","op":"smooth_l1_loss","params":{"beta":"one"},"inputs":{"pred":{"dtype":"float32","shape":[1],"data":[1]},"target":{"dtype":"float32","shape":[1],"data":[0]}},"outputs":{}}""", "params.beta is not a number")]
    [InlineData("""{"format":"pisa-case/1","op":"l1_loss","inputs":{"pred":{"dtype":"int32","shape":[1],"data":[1]}},"outputs":{}}""", "'inputs.pred.dtype' is 'int32'")]
    [InlineData("""{"format":"pisa-case/1","op":"l1_loss","inputs":{"pred":{"dtype":"float32","shape":[1],"data":[1]},"target":{"dtype":"float32","shape":[1],"data":[0]}},"outputs":{"oops":{"dtype":"float32","shape":[1],"data":[1]}}}""", "produces no output 'oops'")]
    public void A_bad_case_file_fails_with_the_file_and_the_reason(string json, string reason)
    {
        var (result, file) = RunCaseText(json);
        Assert.False(result.Passed);
        Assert.Contains(reason, result.Reason);
        Assert.Contains(file, result.ToString());
        Assert.StartsWith("FAIL", result.ToString());
    }

    [Theory]
    [InlineData("boxes/iou_empty_a.json")]
    [InlineData("boxes/iou_empty_b.json")]
    [InlineData("boxes/encode_empty.json")]
    [InlineData("assign/no_candidates.json")]
    [InlineData("nms/no_boxes.json")]
    [InlineData("loss/l1_empty.json")]
    [InlineData("loss/cross_entropy_empty.json")]
    public void A_case_with_empty_inputs_and_outputs_runs_and_passes(string file)
    {
        // pisa-case/1 allows a zero in a shape; the runner used to die copying an empty [0,3] result to the host.
        var result = ConformanceRunner.RunFile(RepoPaths.InRoot("tests", "conformance", file));
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, result.MaxAbsError);
    }

    [Fact]
    public void An_empty_output_of_the_wrong_shape_fails_with_both_shapes()
    {
        // a [0,4] vs b [3,4] gives [0,3]; the case says [3,0]: same (zero) element count, different shape.
        var (result, _) = RunCaseText("""{"format":"pisa-case/1","op":"bbox_overlaps","inputs":{"a":{"dtype":"float32","shape":[0,4],"data":[]},"b":{"dtype":"float32","shape":[3,4],"data":[0,0,1,1,0,0,2,2,0,0,3,3]}},"outputs":{"overlaps":{"dtype":"float32","shape":[3,0],"data":[]}}}""");
        Assert.False(result.Passed);
        Assert.Contains("shape [0,3] but the case says [3,0]", result.Reason);
    }

    [Fact]
    public void A_wrong_number_fails_naming_the_worst_element_and_its_errors()
    {
        // |1-0| = 1 and |2-0| = 2 are right; the last element is 3 where the case wants 3.5: abs 0.5, rel 0.5/3.5.
        var (result, _) = RunCaseText("""{"format":"pisa-case/1","op":"l1_loss","name":"wrong","inputs":{"pred":{"dtype":"float32","shape":[3],"data":[1,2,3]},"target":{"dtype":"float32","shape":[3],"data":[0,0,0]}},"outputs":{"loss":{"dtype":"float32","shape":[3],"data":[1,2,3.5]}}}""");
        Assert.False(result.Passed);
        Assert.Equal(0.5, result.MaxAbsError, 6);
        Assert.Equal(0.5 / 3.5, result.MaxRelError, 6);
        Assert.Equal("loss[2]", result.Worst);
    }

    [Fact]
    public void A_passing_case_names_the_element_with_the_error_not_an_exact_zero()
    {
        // |0-0| = 0 is exact (allowance atol 1e-5); |1000-1000.01| = 0.01 is within atol + rtol * 1000.01 = 0.10001.
        var (result, _) = RunCaseText("""{"format":"pisa-case/1","op":"l1_loss","name":"close","inputs":{"pred":{"dtype":"float32","shape":[2],"data":[0,1000]},"target":{"dtype":"float32","shape":[2],"data":[0,0]}},"outputs":{"loss":{"dtype":"float32","shape":[2],"data":[0,1000.01]}}}""");
        Assert.True(result.Passed);
        Assert.Equal("loss[1]", result.Worst);
    }

    [Fact]
    public void A_hundred_thousand_candidates_assign_and_sample_exactly()
    {
        // 100,000 10x10 candidates on a 20 px grid (1000 columns x 100 rows) never overlap each other. The 3 gts are copies of
        // candidates 0, 12,345 and 99,999: those get IoU 1 (gt 1, 2, 3), every other candidate IoU 0 -> negative.
        const int n = 100_000;
        var boxes = new double[n * 4];
        for (int i = 0; i < n; i++)
        {
            double x = i % 1000 * 20, y = i / 1000 * 20;
            boxes[i * 4] = x; boxes[i * 4 + 1] = y; boxes[i * 4 + 2] = x + 10; boxes[i * 4 + 3] = y + 10;
        }
        int[] gtAt = [0, 12_345, 99_999];
        var gts = gtAt.SelectMany(i => boxes.Skip(i * 4).Take(4)).ToArray();
        var expected = new double[n];
        for (int g = 0; g < gtAt.Length; g++) expected[gtAt[g]] = g + 1;
        var assignCase = new ConformanceCase("generated", "assign/100k_grid", "max_iou_assign",
            System.Text.Json.JsonDocument.Parse("""{"pos_iou_thr":0.5,"neg_iou_thr":0.5,"min_pos_iou":0.5,"match_low_quality":false}""").RootElement,
            new Dictionary<string, CaseArray>
            {
                ["bboxes"] = new("float32", [n, 4], boxes),
                ["gt_bboxes"] = new("float32", [3, 4], gts),
                ["gt_labels"] = new("int64", [3], [5, 6, 7]),
            },
            new Dictionary<string, ExpectedOutput> { ["gt_inds"] = new ExpectedArray(new CaseArray("int64", [n], expected)) },
            ConformanceCase.DefaultRtol, ConformanceCase.DefaultAtol);
        var result = ConformanceRunner.RunCase(assignCase);
        Assert.True(result.Passed, result.ToString());

        // IoU-balanced sampling of those 99,997 negatives (all IoU 0, the max IoU 1 from the positives): all fall in the first of
        // 3 bins, which gives int(512/3) = 170, and the shortfall 342 is filled from the same set: exactly 512, all at IoU 0.
        var gtInds = tensor(expected.Select(v => (long)v).ToArray()).unsqueeze(0);
        var maxOverlaps = tensor(expected.Select(v => v > 0 ? 1f : 0f).ToArray()).unsqueeze(0);
        var picked = Sample.IoUBalancedNegatives(gtInds, maxOverlaps, ones_like(gtInds, ScalarType.Bool), tensor(new long[] { 512 }),
            new IoUBalancedSettings(), firstCall: true, Compat.Mmdet, new Generator(1));
        Assert.Equal(512, picked.sum().item<long>());
        Assert.Equal(0, (picked & (gtInds != 0)).sum().item<long>());
    }

    /// <summary>Runs a case given as JSON text from a temporary file (deleted afterwards); returns the result and the file's path.</summary>
    private static (CaseResult Result, string File) RunCaseText(string json)
    {
        string file = Path.Combine(Path.GetTempPath(), $"pisa-case-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        try { return (ConformanceRunner.RunFile(file), file); }
        finally { File.Delete(file); }
    }
}
