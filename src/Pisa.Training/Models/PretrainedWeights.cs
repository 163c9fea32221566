using System.Collections;
using Pisa.Recipes;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// PyTorch <c>state_dict</c> files (<c>.pth</c>/<c>.pt</c> written by <c>torch.save</c>, or <c>.safetensors</c>) read with
/// TorchSharp.PyBridge, and torchvision ResNet weights loaded onto a detector's <see cref="ResNetBackbone"/>.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>Keys a torchvision ResNet checkpoint has and a backbone does not need: the ImageNet classifier.</summary>
    private static bool IsClassifier(string key) => key.StartsWith("fc.", StringComparison.Ordinal);

    /// <summary>BatchNorm's step counter: only used with momentum=None, and not every writer keeps it.</summary>
    private static bool IsBatchCounter(string key) => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>Every tensor of a state_dict file, on the CPU, by name.</summary>
    /// <exception cref="PretrainedWeightsException">Missing, or not a state_dict PyBridge reads (named).</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new PretrainedWeightsException($"{path}: no such file");
        try
        {
            if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
                return Safetensors.LoadStateDict(path);
            using var stream = File.OpenRead(path);
            var table = PyTorchUnpickler.UnpickleStateDict(stream);
            return table.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!);
        }
        catch (Exception ex) when (ex is not PretrainedWeightsException)
        {
            throw new PretrainedWeightsException($"{path}: not a PyTorch state_dict (.pth/.pt from torch.save(model.state_dict()), or .safetensors): {ex.Message}");
        }
    }

    /// <summary>
    /// Copies a torchvision ResNet state_dict file onto <paramref name="detector"/>'s <see cref="ResNetBackbone"/> (or onto the backbone itself).
    /// torchvision's names are the backbone's own; <c>fc.*</c> is ignored, and a <c>module.</c> (DataParallel) or
    /// <c>backbone.</c> (mmdetection) prefix is removed. Nothing is copied unless everything fits.
    /// </summary>
    /// <returns>One line saying what was loaded.</returns>
    /// <exception cref="PretrainedWeightsException">Every missing and unexpected key and every shape mismatch, in one message naming the file.</exception>
    public static string LoadBackbone(nn.Module detector, string path)
    {
        var backbone = detector as ResNetBackbone ?? detector.modules().OfType<ResNetBackbone>().SingleOrDefault()
            ?? throw new PretrainedWeightsException($"{path}: model.pretrained needs a ResNet backbone (model.backbone: resnet18|resnet34|resnet50|resnet101)");
        var file = Read(path);
        try
        {
            var source = file.Where(p => !IsClassifier(StripPrefix(p.Key)) && !IsBatchCounter(p.Key)).ToDictionary(p => StripPrefix(p.Key), p => p.Value);
            var target = backbone.state_dict().Where(p => !IsBatchCounter(p.Key)).ToDictionary(p => p.Key, p => p.Value);
            var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
            var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).ToList();
            var shapes = target.Keys.Where(source.ContainsKey)
                .Where(k => !source[k].shape.SequenceEqual(target[k].shape))
                .Select(k => $"{k}: file [{string.Join(", ", source[k].shape)}], model [{string.Join(", ", target[k].shape)}]").ToList();
            if (missing.Count + unexpected.Count + shapes.Count > 0)
                throw new PretrainedWeightsException(Mismatch(path, backbone.Depth, missing, unexpected, shapes));
            using (no_grad())
                foreach (var (key, tensor) in target) tensor.copy_(source[key]);
            return $"pretrained={path} ({target.Count} ResNet-{backbone.Depth} tensors)";
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    /// <summary>The file a recipe's <c>model.pretrained</c> names: as written when absolute, else relative to the recipe's folder (or the working folder when it came from <c>--set</c>).</summary>
    public static string Resolve(Recipe recipe, string pretrained)
    {
        if (Path.IsPathRooted(pretrained)) return pretrained;
        string? recipeFile = recipe.Settings.FirstOrDefault(s => s.Path == "model.pretrained")?.Origin?.Path;
        return recipeFile is not null && File.Exists(recipeFile)
            ? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(recipeFile))!, pretrained))
            : Path.GetFullPath(pretrained);
    }

    private static string StripPrefix(string key) =>
        key.StartsWith("module.", StringComparison.Ordinal) ? StripPrefix(key["module.".Length..])
        : key.StartsWith("backbone.", StringComparison.Ordinal) ? key["backbone.".Length..]
        : key;

    private static string Mismatch(string path, int depth, List<string> missing, List<string> unexpected, List<string> shapes)
    {
        static string List(string title, List<string> keys) =>
            keys.Count == 0 ? "" : $"\n  {title} ({keys.Count}): {string.Join(", ", keys.Take(12))}{(keys.Count > 12 ? ", …" : "")}";
        return $"{path}: does not fit a torchvision ResNet-{depth} (is it another depth, or not a torchvision ResNet?)"
            + List("missing", missing) + List("unexpected", unexpected) + List("shape mismatch", shapes);
    }
}

/// <summary>A weights file that cannot be read or does not fit the model; the message names the file.</summary>
public sealed class PretrainedWeightsException(string message) : Exception(message);
