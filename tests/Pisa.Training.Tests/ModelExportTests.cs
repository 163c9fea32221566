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
