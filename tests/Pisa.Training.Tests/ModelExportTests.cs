using System.Text.Json;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

[Collection(TrainingCollection.Name)]
public class ModelExportTests
{
    [PythonTorchFact]
    public void An_exported_detector_reads_back_in_pytorch_with_its_names_shapes_and_values() => RoundTrip("faster-rcnn", WeightsFormat.Pytorch, "model.pth");

    [PythonTorchFact]
    public void A_safetensors_export_reads_back_with_its_names_shapes_and_values() => RoundTrip("retinanet", WeightsFormat.Safetensors, "model.safetensors");

    [Fact]
    public void The_architecture_names_the_resize_evaluation_uses_and_the_heads_box_coder()
    {
        var (square, squarePipeline) = TrainingFixtures.Recipe("retinanet");
        var (keepRatio, keepRatioPipeline) = TrainingFixtures.Recipe("faster-rcnn", "train.scale=[96, 64]", "train.pad_divisor=16");
        var categories = TrainingFixtures.Train.Categories;
        using var one = DetectorRunner.Create(square, squarePipeline, TrainingFixtures.TinyModel);
        using var two = DetectorRunner.Create(keepRatio, keepRatioPipeline, TrainingFixtures.TinyModel);

        var squareArchitecture = ModelExport.Architecture(one.Model, square, categories, WeightsFormat.Pytorch, "m.pth");
        var keepRatioArchitecture = ModelExport.Architecture(two.Model, keepRatio, categories, WeightsFormat.Pytorch, "m.pth");
        var squareInput = (Dictionary<string, object?>)squareArchitecture["input"]!;
        var keepRatioInput = (Dictionary<string, object?>)keepRatioArchitecture["input"]!;

        Assert.Equal(("square", (object?)square.Train.ImageSize, (object?)null), (squareInput["resize"], squareInput["image_size"], squareInput["scale"]));
        Assert.Equal("keep_ratio", keepRatioInput["resize"]);
        Assert.Null(keepRatioInput["image_size"]);
        Assert.Equal([96, 64], (int[])keepRatioInput["scale"]!);
        Assert.Equal(16, keepRatioInput["pad_divisor"]);
        Assert.Equal("unit", ((Dictionary<string, object>)squareArchitecture["box_coding"]!)["head"]);
        Assert.Equal("rcnn", ((Dictionary<string, object>)keepRatioArchitecture["box_coding"]!)["head"]);
    }

    private static void RoundTrip(string recipeName, WeightsFormat format, string file)
    {
        using var folder = new TempDirectory();
        var (recipe, pipeline) = TrainingFixtures.Recipe(recipeName, "model.backbone=resnet18");
        torch.manual_seed(3);
        using var runner = DetectorRunner.Create(recipe, pipeline, Trainer.ModelFor(recipe, TrainingFixtures.Train.Categories.Count));

        string architecture = ModelExport.Write(runner.Model, recipe, TrainingFixtures.Train.Categories, format, folder.In(file));
        PythonTorch.Run("export_check.py", folder.In(file), folder.In("read.json"));

        Assert.Equal(folder.In(Path.ChangeExtension(file, ".json")), architecture);
        using var read = JsonDocument.Parse(File.ReadAllText(folder.In("read.json")));
        var tensors = read.RootElement.EnumerateObject().Where(p => p.Name != "__architecture__").ToDictionary(p => p.Name, p => p.Value);
        var expected = runner.Model.state_dict();
        Assert.Equal(expected.Keys.Order(), tensors.Keys.Order());
        Assert.Contains("features.backbone.layer4.1.conv2.weight", tensors.Keys);
        foreach (var (name, tensor) in expected)
        {
            var mine = tensors[name];
            Assert.Equal(tensor.shape, mine.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            double sum = tensor.to(ScalarType.Float64).sum().item<double>();
            Assert.True(Math.Abs(sum - mine.GetProperty("sum").GetDouble()) <= 1e-6 * Math.Max(1, Math.Abs(sum)), $"{name}: sum {sum} vs PyTorch's {mine.GetProperty("sum")}");
            double[] first = tensor.flatten()[..(int)Math.Min(4, tensor.numel())].to(ScalarType.Float64).data<double>().ToArray();
            Assert.Equal(first, mine.GetProperty("first").EnumerateArray().Select(v => v.GetDouble()));
        }
        var arch = read.RootElement.GetProperty("__architecture__");
        Assert.Equal("resnet18", arch.GetProperty("backbone").GetString());
        Assert.Equal(TrainingFixtures.Train.Categories.Count, arch.GetProperty("num_classes").GetInt32());
        Assert.Equal(recipe.Detector == Pisa.Recipes.DetectorKind.TwoStage ? [4, 8, 16, 32, 64] : new[] { 8, 16, 32, 64, 128 },
            arch.GetProperty("strides").EnumerateArray().Select(s => s.GetInt32()));
        var coding = arch.GetProperty("box_coding");
        Assert.Equal([0.1, 0.1, 0.2, 0.2], coding.GetProperty("rcnn_stds").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal([1.0, 1.0, 1.0, 1.0], coding.GetProperty("anchor_stds").EnumerateArray().Select(v => v.GetDouble()));
    }
}
