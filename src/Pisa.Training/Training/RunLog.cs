using System.Text.Json;
using Pisa.Evaluation;
using Pisa.Training.Runs;

namespace Pisa.Training.Training;

/// <summary>
/// Everything a run writes while it trains: <c>metrics.jsonl</c> / <c>metrics.csv</c>, TensorBoard event files under
/// <c>tensorboard/</c>, and the PNG plots (one per loss term, the learning rate, mAP per epoch, the precision–recall
/// curve of the last evaluation). A resumed run first drops the records after its checkpoint, so a killed run's last
/// partial window is not logged twice.
/// </summary>
public sealed class RunLog
{
    private static readonly string[] EvaluationNames = ["AP", "AP50", "AP75", "APs", "APm", "APl"];
    private readonly RunFolder run;
    private readonly MetricsLog metrics;
    private readonly TorchSharp.Modules.SummaryWriter tensorboard;

    public RunLog(RunFolder run, long? resumeAt)
    {
        this.run = run;
        if (resumeAt is long step && File.Exists(run.MetricsJsonl)) DropRecordsAfter(run.MetricsJsonl, step);
        metrics = new MetricsLog(run.MetricsJsonl, run.MetricsCsv);
        tensorboard = TorchSharp.torch.utils.tensorboard.SummaryWriter(run.In("tensorboard"));
    }

    public void Losses(long step, IReadOnlyDictionary<string, double> values)
    {
        metrics.Append(step, values);
        foreach (var (name, value) in values) tensorboard.add_scalar($"train/{name}", (float)value, (int)step);
    }

    public void Evaluation(long step, int epoch, ValidationResult result)
    {
        var values = result.Metrics();
        values["epoch"] = epoch;
        metrics.Append(step, values);
        foreach (var (name, value) in result.Metrics()) tensorboard.add_scalar($"val/{name}", (float)value, (int)step);
        PlotPrecisionRecall(result.Evaluation);
    }

    /// <summary>Writes the plots of everything logged so far.</summary>
    public void Finish(ValidationResult? last)
    {
        var records = metrics.Records;
        var trainNames = records.SelectMany(r => r.Values.Keys).Distinct().Where(n => !EvaluationNames.Contains(n) && n != "epoch").ToList();
        foreach (string name in trainNames)
        {
            var points = records.Where(r => r.Values.ContainsKey(name)).ToList();
            Plots.Lines(Path.Combine(run.PlotsDirectory, $"{name}.png"), name, "iteration", name == "lr" ? "learning rate" : "loss",
                [new Series(name, points.Select(p => (double)p.Step).ToList(), points.Select(p => p.Values[name]).ToList())]);
        }
        var evaluations = records.Where(r => r.Values.ContainsKey("AP") && r.Values.ContainsKey("epoch")).ToList();
        if (evaluations.Count > 0)
            Plots.Lines(Path.Combine(run.PlotsDirectory, "map.png"), "val mAP per epoch", "epoch", "AP",
                EvaluationNames[..3].Select(n => new Series(n, evaluations.Select(e => e.Values["epoch"]).ToList(), evaluations.Select(e => e.Values[n]).ToList())).ToList());
        if (last is not null) PlotPrecisionRecall(last.Evaluation);
    }

    /// <summary>Mean precision over classes against recall (101 COCO recall points), at IoU 0.5 and 0.75.</summary>
    private void PlotPrecisionRecall(CocoEvaluation evaluation)
    {
        double[] recall = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();
        var series = new[] { (Name: "IoU 0.50", Index: 0), (Name: "IoU 0.75", Index: 5) }
            .Select(c => new Series(c.Name, recall, evaluation.MeanPrecisionCurve(c.Index).Select(p => Math.Max(p, 0)).ToArray())).ToList();
        Plots.Lines(Path.Combine(run.PlotsDirectory, "precision_recall.png"), "precision-recall (val, all areas)", "recall", "precision", series);
    }

    private static void DropRecordsAfter(string jsonlPath, long step)
    {
        var kept = File.ReadAllLines(jsonlPath).Where(line =>
        {
            if (string.IsNullOrWhiteSpace(line)) return false;
            using var document = JsonDocument.Parse(line);
            return document.RootElement.GetProperty("step").GetInt64() <= step;
        }).ToList();
        File.WriteAllLines(jsonlPath, kept);
    }
}
