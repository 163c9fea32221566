using Pisa.Evaluation;
using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using static TorchSharp.torch;

namespace Pisa.Training.Training;

/// <summary>The detections of a data set and their COCO evaluation.</summary>
public sealed record ValidationResult(CocoEvaluation Evaluation, IReadOnlyList<CocoDetection> Detections)
{
    /// <summary>AP, AP50, AP75, APs, APm, APl by name, for the metrics log.</summary>
    public Dictionary<string, double> Metrics()
    {
        var s = Evaluation.Stats;
        return new() { ["AP"] = s.AP, ["AP50"] = s.AP50, ["AP75"] = s.AP75, ["APs"] = s.APs, ["APm"] = s.APm, ["APl"] = s.APl };
    }
}

/// <summary>Runs a detector over a data set (evaluation mode, no flips, original order) and evaluates it COCO-style.</summary>
public static class Validation
{
    public static ValidationResult Run(IDetectorRunner runner, DetectionDataset data, int batchSize, int imageSize, Device device)
    {
        var loader = new DetectionLoader(data, LoaderOptions.ForEvaluation(batchSize, imageSize, imageSize));
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
                    detections.AddRange(runner.Detect(Trainer.ToDevice(batch, device), data.Categories));
                }
            }
        }
        finally
        {
            runner.Model.train();
        }
        return new ValidationResult(CocoEvaluator.Evaluate(data.GroundTruth, detections, data.Name, "detections"), detections);
    }
}
