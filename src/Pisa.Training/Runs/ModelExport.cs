using System.Text.Json;
using Pisa.Kernels;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Pisa.Training.Runs;

/// <summary>The file formats <c>pisa export</c> writes a detector's state_dict in.</summary>
public enum WeightsFormat
{
    /// <summary>A <c>torch.save</c>-compatible zip pickle: <c>torch.load(path)</c> gives the state_dict.</summary>
    Pytorch,

    /// <summary>safetensors: <c>safetensors.torch.load_file(path)</c>.</summary>
    Safetensors,
}

/// <summary>
/// A trained detector as files a PyTorch user can read: its <c>state_dict</c> (every parameter and buffer, TorchSharp's
/// module names) and, beside it, a JSON of its architecture — backbone, classes, strides, anchors, sizes, input
/// normalisation — enough to rebuild it.
/// </summary>
public static class ModelExport
{
    /// <summary>Writes <paramref name="weightsPath"/> and <c>&lt;weightsPath without extension&gt;.json</c>.</summary>
    /// <returns>The architecture JSON's path.</returns>
    public static string Write(nn.Module detector, Recipe recipe, CategoryMap categories, WeightsFormat format, string weightsPath)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(weightsPath));
        if (directory is not null) Directory.CreateDirectory(directory);
        if (File.Exists(weightsPath)) File.Delete(weightsPath); // the writers open without truncating
        if (format == WeightsFormat.Safetensors) detector.save_safetensors(weightsPath);
        else detector.save_py(weightsPath);
        string architecturePath = Path.ChangeExtension(weightsPath, ".json");
        File.WriteAllText(architecturePath, JsonSerializer.Serialize(Architecture(detector, recipe, categories, format, Path.GetFileName(weightsPath)),
            new JsonSerializerOptions { WriteIndented = true }));
        return architecturePath;
    }

    /// <summary>What a reader needs to rebuild the detector around the weights.</summary>
    public static Dictionary<string, object?> Architecture(nn.Module detector, Recipe recipe, CategoryMap categories, WeightsFormat format, string weightsFile)
    {
        var (options, anchors) = detector switch
        {
            TwoStageDetector two => (two.Options, two.Anchors),
            SingleStageDetector one => (one.Options, one.Anchors),
            _ => throw new ArgumentException($"not a detector: {detector.GetType().Name}", nameof(detector)),
        };
        bool resnet = options.Backbone != BackboneKind.Small;
        return new Dictionary<string, object?>
        {
            ["format"] = format == WeightsFormat.Safetensors ? "safetensors" : "pytorch",
            ["weights"] = weightsFile,
            ["recipe"] = recipe.Name,
            ["variant"] = recipe.Variant,
            ["detector"] = RecipeEnums.NameOf(recipe.Detector, "detector"),
            ["backbone"] = RecipeEnums.NameOf(options.Backbone, "model.backbone"),
            ["frozen_stages"] = resnet ? options.FrozenStages : null,
            ["norm_eval"] = resnet ? options.NormEval : null,
            ["num_classes"] = categories.Count,
            ["classes"] = categories.Categories.Select((c, label) => new Dictionary<string, object> { ["label"] = label, ["id"] = c.Id, ["name"] = c.Name }).ToList(),
            ["strides"] = anchors.Strides,
            ["anchors"] = new Dictionary<string, object>
            {
                ["sizes_per_level"] = anchors.SizesPerLevel,
                ["ratios"] = anchors.Ratios,
                ["centre"] = "(x + 0.5) * stride",
                ["order"] = "level, row, column, ratio, size",
            },
            ["feature_channels"] = options.FeatureChannels,
            ["roi_size"] = recipe.Detector == DetectorKind.TwoStage ? options.RoiSize : null,
            ["box_head_hidden"] = recipe.Detector == DetectorKind.TwoStage ? options.BoxHeadHiddenDim : null,
            ["retina_stacked_convs"] = recipe.Detector == DetectorKind.SingleStage ? options.RetinaStackedConvs : null,
            ["input"] = new Dictionary<string, object?>
            {
                // What evaluation feeds the network: mmdetection's keep-ratio resize padded right and bottom, or the square resize.
                ["resize"] = recipe.Train.Scale is null ? "square" : "keep_ratio",
                ["image_size"] = recipe.Train.Scale is null ? recipe.Train.ImageSize : null,
                ["scale"] = recipe.Train.Scale?.ToArray(),
                ["pad_divisor"] = recipe.Train.Scale is null ? null : recipe.Train.PadDivisor,
                ["channels"] = "RGB",
                ["range"] = "[0, 1]",
                ["normalisation"] = resnet ? "ImageNet mean/std inside the backbone" : "none",
            },
            ["box_coding"] = new Dictionary<string, object>
            {
                ["type"] = "DeltaXYWHBBoxCoder (dx, dy, dw, dh)",
                // The detection head's deltas (the two-stage box head's, or the dense head's); the RPN's use the anchor stds.
                ["head"] = RecipeEnums.NameOf(recipe.BoxCoder, "box_coder"),
                ["anchor_means"] = BoxCoder.Unit.Means,
                ["anchor_stds"] = BoxCoder.Unit.Stds,
                ["rcnn_means"] = BoxCoder.Rcnn.Means,
                ["rcnn_stds"] = BoxCoder.Rcnn.Stds,
            },
            ["tensors"] = detector.state_dict().Count,
        };
    }

    /// <summary><c>pytorch</c> or <c>safetensors</c> → the format; anything else is the user's error.</summary>
    public static WeightsFormat ParseFormat(string name) => name.ToLowerInvariant() switch
    {
        "pytorch" or "pth" or "pt" => WeightsFormat.Pytorch,
        "safetensors" => WeightsFormat.Safetensors,
        _ => throw new ArgumentException($"--format {name}: expected pytorch or safetensors"),
    };
}
