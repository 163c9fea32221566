using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pisa.Training.Runs;

/// <summary>One row of metrics: the step and named values (loss terms, learning rate, AP…).</summary>
public sealed record MetricsRecord(long Step, IReadOnlyDictionary<string, double> Values);

/// <summary>
/// Appends metrics to <c>metrics.jsonl</c> (one JSON object per line: <c>{"step": 10, "loss": 0.53, …}</c>) and keeps
/// <c>metrics.csv</c> in step with it: columns are <c>step</c> then every name in first-seen order; a name that
/// appears late rewrites the CSV with the new column (earlier rows leave it empty). Non-finite values are written
/// as JSON <c>null</c> and CSV <c>NaN</c>, so a diverging run still leaves a file every tool can read.
/// </summary>
public sealed class MetricsLog
{
    private readonly List<MetricsRecord> records = [];
    private readonly List<string> columns = [];

    public MetricsLog(string jsonlPath, string csvPath)
    {
        (JsonlPath, CsvPath) = (jsonlPath, csvPath);
        if (File.Exists(jsonlPath)) records.AddRange(Read(jsonlPath));
        foreach (var record in records) AddColumns(record);
        RewriteCsv();
    }

    public string JsonlPath { get; }
    public string CsvPath { get; }
    public IReadOnlyList<MetricsRecord> Records => records;

    public void Append(long step, IReadOnlyDictionary<string, double> values)
    {
        var record = new MetricsRecord(step, new Dictionary<string, double>(values));
        records.Add(record);
        File.AppendAllText(JsonlPath, ToJson(record) + "\n");
        if (AddColumns(record)) RewriteCsv();
        else File.AppendAllText(CsvPath, ToCsv(record) + "\n");
    }

    /// <summary>Reads a metrics.jsonl file; a line that is not a JSON object with a numeric "step" is an error naming the line.</summary>
    public static IReadOnlyList<MetricsRecord> Read(string jsonlPath)
    {
        var result = new List<MetricsRecord>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(jsonlPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var values = new Dictionary<string, double>();
                long? step = null;
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (property.Name == "step") step = property.Value.GetInt64();
                    else values[property.Name] = property.Value.ValueKind == JsonValueKind.Null ? double.NaN : property.Value.GetDouble();
                }
                result.Add(new MetricsRecord(step ?? throw new FormatException("no \"step\""), values));
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                throw new InvalidDataException($"{jsonlPath}({lineNumber}): not a metrics record: {ex.Message}");
            }
        }
        return result;
    }

    private bool AddColumns(MetricsRecord record)
    {
        int before = columns.Count;
        foreach (string name in record.Values.Keys)
            if (!columns.Contains(name)) columns.Add(name);
        return columns.Count != before;
    }

    private void RewriteCsv()
    {
        var text = new StringBuilder();
        text.Append(string.Join(",", new[] { "step" }.Concat(columns).Select(Quote))).Append('\n');
        foreach (var record in records) text.Append(ToCsv(record)).Append('\n');
        string temp = CsvPath + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, CsvPath, overwrite: true);
    }

    private string ToCsv(MetricsRecord record) =>
        string.Join(",", new[] { record.Step.ToString(CultureInfo.InvariantCulture) }.Concat(columns.Select(c =>
            record.Values.TryGetValue(c, out double v) ? v.ToString("R", CultureInfo.InvariantCulture) : "")));

    private static string ToJson(MetricsRecord record)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("step", record.Step);
            foreach (var (name, value) in record.Values)
            {
                if (double.IsFinite(value)) writer.WriteNumber(name, value);
                else writer.WriteNull(name);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;
}
