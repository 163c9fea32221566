using System.Text.Json;
using Pisa.Evaluation;
using Pisa.Training.Engine;

namespace Pisa.Training.Runs;

/// <summary>
/// Everything a run writes while it trains: <c>metrics.jsonl</c> / <c>metrics.csv</c>, TensorBoard event files under
/// <c>tensorboard/</c>, and the PNG plots (one per loss term, the learning rate, mAP per epoch, the precision–recall
/// curve of the last evaluation). A resumed run first drops the records after its checkpoint, so a killed run's last
/// partial window is not logged twice. Every record carries <c>wall_s</c>, the run's wall time so far (continued
/// across resumes); evaluation records carry <c>epoch</c>, loss records do not.
/// </summary>
public sealed class RunLog
{
    /// <summary>The name that marks an evaluation record (its value is the epoch evaluated).</summary>
    public const string EpochName = "epoch";

    /// <summary>The wall time of the run, in seconds, when a record was written.</summary>
    public const string WallName = "wall_s";

    private static readonly string[] MapCurves = ["AP", "AP50", "AP75"];
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

    /// <summary>Whether a record of <c>metrics.jsonl</c> is an evaluation (else it is a window of training losses).</summary>
    public static bool IsEvaluation(MetricsRecord record) => record.Values.ContainsKey(EpochName);

    public void Losses(long step, IReadOnlyDictionary<string, double> values, TimeSpan elapsed)
    {
        metrics.Append(step, new Dictionary<string, double>(values) { [WallName] = elapsed.TotalSeconds });
        foreach (var (name, value) in values) tensorboard.add_scalar($"train/{name}", (float)value, (int)step);
    }

    public void Evaluation(long step, int epoch, ValidationResult result, TimeSpan elapsed)
    {
        var values = result.Metrics();
        values[EpochName] = epoch;
        values[WallName] = elapsed.TotalSeconds;
        metrics.Append(step, values);
        foreach (var (name, value) in result.Metrics()) tensorboard.add_scalar($"val/{name}", (float)value, (int)step);
        PlotPrecisionRecall(result.Evaluation);
    }

    /// <summary>Writes the plots of everything logged so far.</summary>
    public void Finish(ValidationResult? last)
    {
        var records = metrics.Records;
        var windows = records.Where(r => !IsEvaluation(r)).ToList();
        foreach (string name in windows.SelectMany(r => r.Values.Keys).Distinct().Where(n => n != WallName))
        {
            var points = windows.Where(r => r.Values.ContainsKey(name)).ToList();
            Plots.Lines(Path.Combine(run.PlotsDirectory, $"{name}.png"), name, "iteration", name == "lr" ? "learning rate" : "loss",
                [new Series(name, points.Select(p => (double)p.Step).ToList(), points.Select(p => p.Values[name]).ToList())]);
        }
        var evaluations = records.Where(r => IsEvaluation(r) && r.Values.ContainsKey("AP")).ToList();
        if (evaluations.Count > 0)
            Plots.Lines(Path.Combine(run.PlotsDirectory, "map.png"), "val mAP per epoch", "epoch", "AP",
                MapCurves.Select(n => new Series(n, evaluations.Select(e => e.Values[EpochName]).ToList(), evaluations.Select(e => e.Values[n]).ToList())).ToList());
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
