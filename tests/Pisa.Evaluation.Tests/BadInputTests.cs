using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation.Tests;

/// <summary>Bad ground truth or results files give a <see cref="CocoFormatException"/> naming the file and the entry — never a crash or a NaN.</summary>
public sealed class BadInputTests : IDisposable
{
    private const string Images = """{"id":1,"file_name":"a.jpg","width":640,"height":480},{"id":2,"file_name":"b.jpg","width":640,"height":480}""";
    private const string Categories = """{"id":1,"name":"box"},{"id":3,"name":"ball"}""";
    private const string Annotation = """{"id":1,"image_id":1,"category_id":1,"bbox":[10,10,50,50],"area":2500,"iscrowd":0}""";
    private const string Detection = """{"image_id":1,"category_id":1,"bbox":[10,10,50,50],"score":0.9}""";

    private readonly string _folder = Directory.CreateTempSubdirectory("pisa-eval-bad-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string GroundTruth(string images = Images, string categories = Categories, string annotations = Annotation) =>
        $$"""{"images":[{{images}}],"categories":[{{categories}}],"annotations":[{{annotations}}]}""";

    /// <summary>Writes both files, reads and evaluates them, and returns the error; fails if there is none.</summary>
    private CocoFormatException Error(string groundTruth, string detections, out string instancesPath, out string detectionsPath)
    {
        instancesPath = Path.Combine(_folder, "instances.json");
        detectionsPath = Path.Combine(_folder, "results.json");
        File.WriteAllText(instancesPath, groundTruth);
        File.WriteAllText(detectionsPath, detections);
        string gtPath = instancesPath, detPath = detectionsPath;
        return Assert.Throws<CocoFormatException>(() =>
            CocoEvaluator.Evaluate(CocoJson.ReadDataset(gtPath), CocoJson.ReadDetections(detPath), gtPath, detPath));
    }

    private void AssertGroundTruthError(string groundTruth, params string[] fragments)
    {
        var error = Error(groundTruth, $"[{Detection}]", out string instances, out _);
        Assert.Equal(instances, error.File);
        Assert.StartsWith(instances + ": ", error.Message);
        foreach (string fragment in fragments) Assert.Contains(fragment, error.Message);
    }

    private void AssertDetectionsError(string detections, params string[] fragments)
    {
        var error = Error(GroundTruth(), detections, out _, out string results);
        Assert.Equal(results, error.File);
        Assert.StartsWith(results + ": ", error.Message);
        foreach (string fragment in fragments) Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void A_valid_pair_evaluates() =>
        Assert.Equal(1.0, CocoEvaluator.Evaluate(
            new CocoDataset([new CocoImage(1, "a.jpg", 640, 480)], [new CocoCategory(1, "box", null)], [new CocoAnnotation(1, 1, 1, [10, 10, 50, 50], 2500, 0)]),
            [new CocoDetection(1, 1, [10, 10, 50, 50], 0.9)]).Stats.AP50, 1e-12);

    [Fact]
    public void Duplicate_image_id() =>
        AssertGroundTruthError(GroundTruth(images: Images + """,{"id":1,"file_name":"c.jpg","width":1,"height":1}"""), "images[2]", "id 1", "images[0]");

    [Fact]
    public void Duplicate_category_id() =>
        AssertGroundTruthError(GroundTruth(categories: Categories + """,{"id":3,"name":"again"}"""), "categories[2]", "id 3", "categories[1]");

    [Fact]
    public void Duplicate_annotation_id() =>
        AssertGroundTruthError(GroundTruth(annotations: Annotation + "," + Annotation), "annotations[1] (id 1)", "annotations[0]");

    [Fact]
    public void Annotation_of_an_unknown_image() =>
        AssertGroundTruthError(GroundTruth(annotations: Annotation.Replace("\"image_id\":1", "\"image_id\":77")), "annotations[0] (id 1)", "image_id 77");

    [Fact]
    public void Annotation_of_an_unknown_category() =>
        AssertGroundTruthError(GroundTruth(annotations: Annotation.Replace("\"category_id\":1", "\"category_id\":2")), "annotations[0] (id 1)", "category_id 2");

    [Fact]
    public void Annotation_with_a_negative_width() =>
        AssertGroundTruthError(GroundTruth(annotations: Annotation.Replace("[10,10,50,50]", "[10,10,-5,50]")), "annotations[0] (id 1)", "width -5 is negative");

    [Fact]
    public void Annotation_without_an_area() =>
        AssertGroundTruthError(GroundTruth(annotations: Annotation.Replace("\"area\":2500,", "")), "area", "line 1");

    [Fact]
    public void Annotation_with_a_negative_area() =>
        AssertGroundTruthError(GroundTruth(annotations: Annotation.Replace("\"area\":2500", "\"area\":-1")), "annotations[0] (id 1)", "area -1");

    [Fact]
    public void Annotation_with_iscrowd_other_than_0_or_1() =>
        AssertGroundTruthError(GroundTruth(annotations: Annotation.Replace("\"iscrowd\":0", "\"iscrowd\":2")), "annotations[0] (id 1)", "iscrowd 2");

    [Fact]
    public void Ground_truth_that_is_not_json() =>
        AssertGroundTruthError("{\"images\": [\n  {\"id\": 1,, }\n]}", "not valid COCO JSON", "line 2");

    [Fact]
    public void Ground_truth_without_images() =>
        AssertGroundTruthError("""{"categories":[],"annotations":[]}""", "\"images\"");

    [Fact]
    public void Results_file_that_is_an_object_not_a_list() =>
        AssertDetectionsError($$"""{"annotations":[{{Detection}}]}""", "must be a JSON list", "not an object");

    [Fact]
    public void Results_file_that_is_empty() =>
        AssertDetectionsError("", "not valid JSON");

    [Fact]
    public void Detection_of_an_unknown_image() =>
        AssertDetectionsError($"[{Detection},{Detection.Replace("\"image_id\":1", "\"image_id\":5")}]", "entry 1 of the list", "image_id 5");

    [Fact]
    public void Detection_of_an_unknown_category() =>
        AssertDetectionsError($"[{Detection.Replace("\"category_id\":1", "\"category_id\":9")}]", "entry 0 of the list", "category_id 9");

    [Fact]
    public void Detection_with_a_negative_width() =>
        AssertDetectionsError($"[{Detection},{Detection},{Detection.Replace("[10,10,50,50]", "[10,10,-1,50]")}]", "entry 2 of the list", "width -1 is negative");

    [Fact]
    public void Detection_with_a_negative_height() =>
        AssertDetectionsError($"[{Detection.Replace("[10,10,50,50]", "[10,10,50,-3]")}]", "entry 0 of the list", "height -3 is negative");

    [Fact]
    public void Detection_with_three_box_numbers() =>
        AssertDetectionsError($"[{Detection.Replace("[10,10,50,50]", "[10,10,50]")}]", "entry 0 of the list", "[x, y, w, h]");

    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"-Infinity\"")]
    public void Detection_with_a_non_finite_score(string score) =>
        AssertDetectionsError($"[{Detection},{Detection.Replace("0.9", score)}]", "entry 1 of the list", "score", "not a finite number");

    [Fact]
    public void Detection_with_a_non_finite_box_value() =>
        AssertDetectionsError($"[{Detection.Replace("[10,10,50,50]", "[10,\"NaN\",50,50]")}]", "entry 0 of the list", "not a finite number");

    [Fact]
    public void Detection_whose_area_overflows() =>
        AssertDetectionsError($"[{Detection.Replace("[10,10,50,50]", "[10,10,1e200,1e200]")}]", "entry 0 of the list", "too large");

    [Fact]
    public void Detection_without_a_score() =>
        AssertDetectionsError($"[{Detection},\n{Detection.Replace(",\"score\":0.9", "")}]", "score", "line 2");

    [Fact]
    public void Null_detection_entry() =>
        AssertDetectionsError($"[{Detection},null]", "entry 1 of the list is null");

    [Fact]
    public void Missing_results_file()
    {
        string missing = Path.Combine(_folder, "nowhere.json");
        var error = Assert.Throws<CocoFormatException>(() => CocoJson.ReadDetections(missing));
        Assert.Equal($"{missing}: file not found", error.Message);
    }

    [Fact]
    public void In_memory_errors_name_the_given_sources()
    {
        var groundTruth = new CocoDataset([new CocoImage(1, "a.jpg", 640, 480)], [new CocoCategory(1, "box", null)], []);
        var error = Assert.Throws<CocoFormatException>(() =>
            CocoEvaluator.Evaluate(groundTruth, [new CocoDetection(2, 1, [0, 0, 1, 1], 0.5)], "val2017", "epoch 3 detections"));
        Assert.StartsWith("epoch 3 detections: entry 0 of the list (image_id 2, category_id 1): image_id 2 is not an image of the ground truth val2017", error.Message);
    }
}
