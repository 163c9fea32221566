using System.Globalization;
using System.Text;
using System.Text.Json;
using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation;

/// <summary>Renders a <see cref="CocoEvaluation"/> as the familiar summary lines and as the JSON layout of the eval cases' expected.json.</summary>
public static class CocoReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// The twelve summary lines in the reference layout
    /// (<c> Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.473</c>), then AP per category.
    /// </summary>
    /// <param name="categories">The ground truth's categories, for their names; ids without one print without a name.</param>
    public static string Summary(CocoEvaluation evaluation, IReadOnlyList<CocoCategory> categories) =>
        StatLines(evaluation) + "\n" + CategoryTable(evaluation, categories);

    /// <summary>The twelve summary lines alone, in the reference layout.</summary>
    public static string StatLines(CocoEvaluation evaluation)
    {
        var stats = evaluation.Stats;
        var text = new StringBuilder();
        text.AppendLine(SummaryLine(precision: true, "0.50:0.95", AreaRange.All, 100, stats.AP));
        text.AppendLine(SummaryLine(precision: true, "0.50", AreaRange.All, 100, stats.AP50));
        text.AppendLine(SummaryLine(precision: true, "0.75", AreaRange.All, 100, stats.AP75));
        text.AppendLine(SummaryLine(precision: true, "0.50:0.95", AreaRange.Small, 100, stats.APs));
        text.AppendLine(SummaryLine(precision: true, "0.50:0.95", AreaRange.Medium, 100, stats.APm));
        text.AppendLine(SummaryLine(precision: true, "0.50:0.95", AreaRange.Large, 100, stats.APl));
        text.AppendLine(SummaryLine(precision: false, "0.50:0.95", AreaRange.All, 1, stats.AR1));
        text.AppendLine(SummaryLine(precision: false, "0.50:0.95", AreaRange.All, 10, stats.AR10));
        text.AppendLine(SummaryLine(precision: false, "0.50:0.95", AreaRange.All, 100, stats.AR100));
        text.AppendLine(SummaryLine(precision: false, "0.50:0.95", AreaRange.Small, 100, stats.ARs));
        text.AppendLine(SummaryLine(precision: false, "0.50:0.95", AreaRange.Medium, 100, stats.ARm));
        text.AppendLine(SummaryLine(precision: false, "0.50:0.95", AreaRange.Large, 100, stats.ARl));
        return text.ToString();
    }

    /// <summary>AP per category, one line each, ascending id.</summary>
    private static string CategoryTable(CocoEvaluation evaluation, IReadOnlyList<CocoCategory> categories)
    {
        var text = new StringBuilder();
        var names = new Dictionary<long, string>();
        foreach (var category in categories) names.TryAdd(category.Id, category.Name);
        int nameWidth = Math.Max(4, names.Values.Select(n => n?.Length ?? 0).DefaultIfEmpty(0).Max());
        text.AppendLine(" Per-category AP @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]");
        text.AppendLine(string.Create(Invariant, $"  {"id",8}  {"name".PadRight(nameWidth)}  {"AP",6}"));
        foreach (var (id, ap) in evaluation.PerCategoryAp.OrderBy(p => p.Key))
            text.AppendLine(string.Create(Invariant, $"  {id,8}  {(names.GetValueOrDefault(id) ?? "").PadRight(nameWidth)}  {ap,6:0.000}"));
        return text.ToString();
    }

    /// <summary>
    /// The numbers as JSON: <c>{"stats": {"AP": …, …, "ARl": …}, "per_category_ap": {"&lt;id&gt;": …}}</c>, the layout of
    /// the eval cases' expected.json, with round-trip doubles and -1 where a number is undefined.
    /// </summary>
    public static string Json(CocoEvaluation evaluation)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("stats");
            for (int i = 0; i < CocoStats.Names.Count; i++) json.WriteNumber(CocoStats.Names[i], evaluation.Stats.Values[i]);
            json.WriteEndObject();
            json.WriteStartObject("per_category_ap");
            foreach (var (id, ap) in evaluation.PerCategoryAp.OrderBy(p => p.Key)) json.WriteNumber(id.ToString(Invariant), ap);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>One line in the reference's <c>summarize()</c> layout; -1 prints as -1.000.</summary>
    private static string SummaryLine(bool precision, string iou, AreaRange area, int maxDetections, double value)
    {
        string title = precision ? "Average Precision" : "Average Recall";
        string kind = precision ? "(AP)" : "(AR)";
        string areaName = area.ToString().ToLowerInvariant();
        return string.Create(Invariant, $" {title,-18} {kind} @[ IoU={iou,-9} | area={areaName,6} | maxDets={maxDetections,3} ] = {value:0.000}");
    }
}
