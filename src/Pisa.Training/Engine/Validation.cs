using Pisa.Evaluation;
using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using Pisa.Training.Inference;
using Pisa.Training.Metrics;
using static TorchSharp.torch;

namespace Pisa.Training.Engine;

/// <summary>The detections of a data set, their COCO evaluation and the score–IoU correlation of the candidates behind them.</summary>
public sealed record ValidationResult(CocoEvaluation Evaluation, IReadOnlyList<CocoDetection> Detections, ScoreIoUCorrelation ScoreIoU)
{
    /// <summary>
    /// AP, AP50, AP75, APs, APm, APl, <c>score_iou_pearson</c> (left out when undefined, so never NaN) and
    /// <c>score_iou_count</c> (the positives behind it) by name, for the metrics log.
    /// </summary>
    public Dictionary<string, double> Metrics()
    {
        var s = Evaluation.Stats;
        var metrics = new Dictionary<string, double> { ["AP"] = s.AP, ["AP50"] = s.AP50, ["AP75"] = s.AP75, ["APs"] = s.APs, ["APm"] = s.APm, ["APl"] = s.APl };
        if (ScoreIoU.Pearson is double pearson) metrics["score_iou_pearson"] = pearson;
        metrics["score_iou_count"] = ScoreIoU.Count;
        return metrics;
    }

    /// <summary>The metrics as <c>name=value</c> pairs for a console line; an undefined correlation reads <c>n/a</c>.</summary>
    public string Describe()
    {
        var pairs = Metrics().Select(m => m.Key == "score_iou_count"
            ? FormattableString.Invariant($"{m.Key}={m.Value:0}")
            : FormattableString.Invariant($"{m.Key}={m.Value:0.0000}")).ToList();
        if (ScoreIoU.Pearson is null) pairs.Insert(pairs.Count - 1, "score_iou_pearson=n/a");
        return string.Join(" ", pairs);
    }
}

/// <summary>Runs a detector over a data set (evaluation mode, no flips, original order) and evaluates it COCO-style.</summary>
public static class Validation
{
    public static ValidationResult Run(IDetectorRunner runner, DetectionDataset data, int batchSize, int imageSize, Device device) =>
        Run(runner, data, LoaderOptions.ForEvaluation(batchSize, imageSize, imageSize), device);

    /// <param name="options">How images become batches (<see cref="Trainer.LoaderFor"/>); evaluation options: in order, no flip.</param>
    public static ValidationResult Run(IDetectorRunner runner, DetectionDataset data, LoaderOptions options, Device device)
    {
        var scoreIoU = new ScoreIoUCorrelation();
        var detections = Detections(runner, data, options, device, scoreIoU);
        return new ValidationResult(CocoEvaluator.Evaluate(data.GroundTruth, detections, data.Name, "detections"), detections, scoreIoU);
    }

    /// <summary>The detector's detections of every image of <paramref name="data"/> (original coordinates, category ids); its candidates go to <paramref name="scoreIoU"/>.</summary>
    public static List<CocoDetection> Detections(IDetectorRunner runner, DetectionDataset data, LoaderOptions options, Device device, ScoreIoUCorrelation scoreIoU)
    {
        var loader = new DetectionLoader(data, options);
        var detections = new List<CocoDetection>();
        runner.Model.eval();
        try
        {
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                {
                    // A device copy (off the CPU) dies with the scope; the CPU batch with the using.
                    using var scope = NewDisposeScope();
                    detections.AddRange(runner.Detect(Trainer.ToDevice(batch, device), data.Categories, scoreIoU));
                }
            }
        }
        finally
        {
            runner.Model.train();
        }
        return detections;
    }
}

/// <summary>A few images drawn with their detections (<see cref="DetectionDrawing"/>): what a run keeps after each evaluation.</summary>
public static class DetectionExamples
{
    /// <summary>Images per evaluation a run keeps drawn, under <c>vis/epoch_N/</c>.</summary>
    public const int PerEvaluation = 4;

    /// <summary>Detections below this are left off the pictures (as <c>pisa detect</c>'s default).</summary>
    public const double ScoreThreshold = 0.3;

    /// <summary>The folder of one evaluation's pictures inside a run folder.</summary>
    public static string FolderOf(string runDirectory, int epoch) => Path.Combine(runDirectory, "vis", $"epoch_{epoch}");

    /// <summary>
    /// Draws the first <paramref name="count"/> images of <paramref name="data"/> with their detections scoring above
    /// <paramref name="scoreThreshold"/> into <paramref name="folder"/> as <c>{image id:D6}.png</c>; returns the files.
    /// </summary>
    public static IReadOnlyList<string> Write(DetectionDataset data, IEnumerable<CocoDetection> detections, string folder,
        int count = PerEvaluation, double scoreThreshold = ScoreThreshold)
    {
        Directory.CreateDirectory(folder);
        var byImage = detections.Where(d => d.Score > scoreThreshold).ToLookup(d => d.ImageId);
        var files = new List<string>();
        foreach (var entry in data.Entries.Take(count))
        {
            string file = Path.Combine(folder, $"{entry.ImageId:D6}.png");
            DetectionDrawing.WritePng(file, entry.Image, byImage[entry.ImageId], data.Categories);
            files.Add(file);
        }
        return files;
    }
}
