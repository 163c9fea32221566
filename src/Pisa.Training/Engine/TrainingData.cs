using System.Text.Json;
using System.Text.Json.Serialization;
using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;

namespace Pisa.Training.Engine;

/// <summary>
/// What a run trained on, written as <c>run.json</c> so <c>--resume</c> and <c>pisa eval</c> load the same data.
/// </summary>
/// <param name="Data"><c>builtin:shapes</c>, a COCO folder (<c>annotations/instances_{train,val}.json</c> and
/// <c>{train,val}/</c> images) or one instances file (then used for both splits).</param>
/// <param name="Numerics">The platform the run started on (CPU, convolution backend): not read back, there for whoever
/// compares runs across machines.</param>
public sealed record TrainingData(
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("skip_bad")] bool SkipBad,
    [property: JsonPropertyName("shapes_train_count")] int ShapesTrainCount,
    [property: JsonPropertyName("shapes_val_count")] int ShapesValCount,
    [property: JsonPropertyName("numerics"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RunNumerics? Numerics = null)
{
    public const string FileName = "run.json";

    public static TrainingData Builtin(ShapesOptions? shapes = null)
    {
        shapes ??= new ShapesOptions();
        return new TrainingData(ShapesOptions.SourceName, false, shapes.TrainCount, shapes.ValCount);
    }

    /// <summary>The train and val splits.</summary>
    /// <exception cref="DatasetException">Bad data, every problem named by file and id.</exception>
    public (DetectionDataset Train, DetectionDataset Val) Load()
    {
        var shapes = new ShapesOptions { TrainCount = ShapesTrainCount, ValCount = ShapesValCount };
        if (Data == ShapesOptions.SourceName || Data.StartsWith("builtin:", StringComparison.Ordinal))
            return (DetectionDataset.Open(Data, ShapesSplit.Train, shapes), DetectionDataset.Open(Data, ShapesSplit.Val, shapes));
        if (Directory.Exists(Data))
            return (Split(Data, ShapesSplit.Train), Split(Data, ShapesSplit.Val));
        if (!File.Exists(Data)) throw new DatasetException(Data, [$"{Data}: no such file or folder (expected builtin:shapes, a COCO folder or an instances JSON file)"]);
        var both = DetectionDataset.Open(Data, ShapesSplit.Train, skipBad: SkipBad, imageDirectory: Path.GetDirectoryName(Path.GetFullPath(Data)));
        return (both, both);
    }

    /// <summary>The data's categories (ids and names) without loading its images: what detections are labelled with.</summary>
    /// <exception cref="Pisa.Evaluation.Coco.CocoFormatException">An instances file that is missing or unreadable (named).</exception>
    public CategoryMap Categories()
    {
        if (Data == ShapesOptions.SourceName || Data.StartsWith("builtin:", StringComparison.Ordinal)) return new CategoryMap(ShapesDataset.Categories);
        string instances = Directory.Exists(Data) ? Path.Combine(Data, "annotations", $"instances_{ShapesDataset.SplitName(ShapesSplit.Val)}.json") : Data;
        return new CategoryMap(Pisa.Evaluation.Coco.CocoJson.ReadDataset(instances).Categories);
    }

    private DetectionDataset Split(string folder, ShapesSplit split)
    {
        string name = ShapesDataset.SplitName(split);
        return DetectionDataset.FromCoco(Path.Combine(folder, "annotations", $"instances_{name}.json"), Path.Combine(folder, name), SkipBad);
    }

    public void Write(string runDirectory) =>
        File.WriteAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    /// <exception cref="TrainingException">No readable run.json in the folder (named).</exception>
    public static TrainingData Read(string runDirectory)
    {
        string path = Path.Combine(runDirectory, FileName);
        try
        {
            return JsonSerializer.Deserialize<TrainingData>(File.ReadAllText(path)) ?? throw new JsonException("empty");
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            throw new TrainingException($"{path}: not a readable run description: {ex.Message}");
        }
    }
}

/// <summary>What a run's numerics depended on, recorded in <c>run.json</c>.</summary>
public sealed record RunNumerics(
    [property: JsonPropertyName("cpu")] string Cpu,
    [property: JsonPropertyName("simd")] string Simd,
    [property: JsonPropertyName("convolutions")] string Convolutions,
    [property: JsonPropertyName("onednn_max_cpu_isa")] string? OneDnnMaxCpuIsa,
    [property: JsonPropertyName("threads")] int Threads)
{
    public static RunNumerics Of(Pisa.Training.Platform.TorchSettings torch) =>
        new(torch.Cpu.ModelName, torch.Cpu.SimdSummary, torch.Policy.Describe(), torch.Policy.OneDnnMaxIsa, torch.Threads);
}
