using System.Text.Json;
using System.Text.Json.Serialization;
using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;

namespace Pisa.Training.Training;

/// <summary>
/// What a run trained on, written as <c>run.json</c> so <c>--resume</c> and <c>pisa eval</c> load the same data.
/// </summary>
/// <param name="Data"><c>builtin:shapes</c>, a COCO folder (<c>annotations/instances_{train,val}.json</c> and
/// <c>{train,val}/</c> images) or one instances file (then used for both splits).</param>
public sealed record TrainingData(
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("skip_bad")] bool SkipBad,
    [property: JsonPropertyName("shapes_train_count")] int ShapesTrainCount,
    [property: JsonPropertyName("shapes_val_count")] int ShapesValCount)
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
