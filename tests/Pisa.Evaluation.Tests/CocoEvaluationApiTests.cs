using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation.Tests;

/// <summary>The in-memory API the runner uses: precision–recall curves, recall, parameters, edge inputs.</summary>
public class CocoEvaluationApiTests
{
    private static CocoEvaluation OwnCase(string name) => EvalCase.Evaluate(RepoPaths.InRoot("tests", "Pisa.Evaluation.Tests", "Cases", name));

    [Fact]
    public void Precision_curve_is_the_envelope_at_the_101_recall_thresholds()
    {
        // Cases/README.md, precision-envelope: 1 at r_0..r_33, 3/4 at r_34..r_100 (the raw precision at r_34..r_66 is 2/3).
        double[] expected = [.. Enumerable.Repeat(1.0, 34), .. Enumerable.Repeat(0.75, 67)];
        var curve = OwnCase("precision-envelope").PrecisionCurve(categoryId: 1, iouIndex: 0);
        Assert.Equal(expected, curve.ToArray());
    }

    [Fact]
    public void Precision_curve_of_a_category_without_ground_truth_is_all_minus_one()
    {
        var curve = OwnCase("ids-and-empty").PrecisionCurve(categoryId: 42, iouIndex: 3, AreaRange.Medium, maxDetections: 10);
        Assert.Equal(Enumerable.Repeat(-1.0, 101), curve.ToArray());
    }

    [Fact]
    public void Mean_precision_curve_leaves_out_undefined_categories()
    {
        // ids-and-empty: class 3 is 1/2 at every threshold, class 10 is 0, class 42 is undefined: the mean is 1/4.
        Assert.Equal(Enumerable.Repeat(0.25, 101), OwnCase("ids-and-empty").MeanPrecisionCurve(iouIndex: 0));
    }

    [Fact]
    public void Mean_precision_curve_is_minus_one_where_no_category_is_defined()
    {
        // ids-and-empty has no small object at all.
        Assert.Equal(Enumerable.Repeat(-1.0, 101), OwnCase("ids-and-empty").MeanPrecisionCurve(iouIndex: 0, AreaRange.Small));
    }

    [Theory]
    // iou-exactly-at-threshold: both objects found at t_0, only the IoU-0.75 one at t_1..t_5, none above; d1 alone with one detection.
    [InlineData(0, 100, 1.0)]
    [InlineData(5, 100, 0.5)]
    [InlineData(6, 100, 0.0)]
    [InlineData(0, 1, 0.5)]
    [InlineData(1, 1, 0.0)]
    public void Recall_per_threshold_and_limit(int iouIndex, int maxDetections, double expected) =>
        Assert.Equal(expected, OwnCase("iou-exactly-at-threshold").Recall(1, iouIndex, AreaRange.All, maxDetections));

    [Fact]
    public void Asking_for_an_unknown_category_or_limit_is_an_argument_error()
    {
        var evaluation = OwnCase("annotation-id-zero");
        Assert.Throws<ArgumentException>(() => evaluation.PrecisionCurve(categoryId: 2, iouIndex: 0).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => evaluation.Recall(1, iouIndex: 0, maxDetections: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => evaluation.Recall(1, iouIndex: 10));
    }

    [Fact]
    public void Nothing_to_evaluate_gives_minus_one_everywhere()
    {
        var evaluation = CocoEvaluator.Evaluate(new CocoDataset([], [], []), []);
        Assert.All(evaluation.Stats.Values, value => Assert.Equal(-1.0, value));
        Assert.Empty(evaluation.PerCategoryAp);
    }

    [Fact]
    public void Thresholds_are_the_reference_doubles()
    {
        // shared/eval-cases/README.md: t_8 is 0.8999999999999999; r_70 is one ulp above 0.7; t_5 is exactly 0.75.
        Assert.Equal(0.8999999999999999, CocoEvalParameters.IouThresholds[8]);
        Assert.Equal(0.75, CocoEvalParameters.IouThresholds[5]);
        Assert.Equal(Math.BitIncrement(0.7), CocoEvalParameters.RecallThresholds[70]);
        Assert.Equal(0.7000000000000001, CocoEvalParameters.RecallThresholds[70]);
        Assert.Equal(1.0, CocoEvalParameters.RecallThresholds[100]);
        Assert.Equal(101, CocoEvalParameters.RecallThresholds.Count);
    }

    [Fact]
    public void A_missing_iscrowd_reads_as_an_ordinary_object()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("pisa-eval-").FullName, "instances.json");
        File.WriteAllText(file, """
            {"images":[{"id":1,"file_name":"a.jpg","width":640,"height":480}],
             "categories":[{"id":1,"name":"box"}],
             "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[10,10,50,50],"area":2500}]}
            """);
        var groundTruth = CocoJson.ReadDataset(file);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        // One exact detection of the one object: AP 1 (a crowd would leave nothing to find: -1).
        Assert.Equal(1.0, CocoEvaluator.Evaluate(groundTruth, [new CocoDetection(1, 1, [10, 10, 50, 50], 0.5)]).Stats.AP, 1e-12);
    }
}
