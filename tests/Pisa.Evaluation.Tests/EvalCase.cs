using System.Globalization;
using System.Text.Json;
using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation.Tests;

/// <summary>One evaluation case folder: instances.json, detections.json and expected.json (layout of shared/eval-cases).</summary>
public static class EvalCase
{
    /// <summary>Absolute tolerance of the golden cases.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Names of the case folders directly under <paramref name="root"/>, sorted, as theory data.</summary>
    public static TheoryData<string> Folders(string root)
    {
        var data = new TheoryData<string>();
        foreach (string folder in Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "expected.json"))).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(folder));
        return data;
    }

    /// <summary>Evaluates the case's detections against its ground truth, reading both files.</summary>
    public static CocoEvaluation Evaluate(string folder)
    {
        string instances = Path.Combine(folder, "instances.json"), results = Path.Combine(folder, "detections.json");
        return CocoEvaluator.Evaluate(CocoJson.ReadDataset(instances), CocoJson.ReadDetections(results), instances, results);
    }

    /// <summary>The case's expected numbers, by name: the twelve stats and <c>category {id}</c> for each per-category AP.</summary>
    public static IReadOnlyDictionary<string, double> Expected(string folder) => Numbers(File.ReadAllText(Path.Combine(folder, "expected.json")));

    /// <summary>The numbers of a JSON text in the expected.json layout, by name (see <see cref="Expected"/>).</summary>
    public static IReadOnlyDictionary<string, double> Numbers(string json)
    {
        using var document = JsonDocument.Parse(json);
        var numbers = new Dictionary<string, double>();
        foreach (var stat in document.RootElement.GetProperty("stats").EnumerateObject()) numbers[stat.Name] = stat.Value.GetDouble();
        foreach (var category in document.RootElement.GetProperty("per_category_ap").EnumerateObject()) numbers[$"category {category.Name}"] = category.Value.GetDouble();
        return numbers;
    }

    /// <summary>The evaluation's numbers named as in <see cref="Expected"/>.</summary>
    public static IReadOnlyDictionary<string, double> Numbers(CocoEvaluation evaluation)
    {
        var numbers = new Dictionary<string, double>();
        for (int i = 0; i < CocoStats.Names.Count; i++) numbers[CocoStats.Names[i]] = evaluation.Stats.Values[i];
        foreach (var (id, ap) in evaluation.PerCategoryAp) numbers[$"category {id.ToString(CultureInfo.InvariantCulture)}"] = ap;
        return numbers;
    }

    /// <summary>Asserts the same names and every number within <see cref="Tolerance"/>, listing every mismatch.</summary>
    public static void AssertMatches(IReadOnlyDictionary<string, double> expected, IReadOnlyDictionary<string, double> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        var mismatches = expected
            .Where(e => !(Math.Abs(e.Value - actual[e.Key]) <= Tolerance))
            .Select(e => $"{e.Key}: expected {e.Value:R}, got {actual[e.Key]:R}")
            .ToList();
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }
}
