using System.Text.Json;

namespace Pisa.Evaluation.Coco;

/// <summary>A COCO file that cannot be used; the message names the file and, where there is one, the entry.</summary>
public sealed class CocoFormatException(string file, string message) : Exception($"{file}: {message}")
{
    public string File { get; } = file;
}

/// <summary>Reads and writes COCO instances and results files (System.Text.Json; unknown fields are ignored).</summary>
public static class CocoJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString,
    };

    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = false };

    /// <summary>Reads an instances file: structure only (missing lists, wrong types, box arity). Semantic checks belong to the caller.</summary>
    public static CocoDataset ReadDataset(string path)
    {
        var dataset = Deserialize<CocoDataset>(path, "an object with images, categories and annotations");
        if (dataset.Images is null) throw new CocoFormatException(path, "missing \"images\" list");
        if (dataset.Categories is null) throw new CocoFormatException(path, "missing \"categories\" list");
        var annotations = dataset.Annotations ?? [];
        foreach (var annotation in annotations)
            if (annotation.Bbox is not { Length: 4 })
                throw new CocoFormatException(path, $"annotation {annotation.Id}: \"bbox\" must be [x, y, w, h]");
        return dataset with { Annotations = annotations };
    }

    /// <summary>Reads a results file: a JSON list of {image_id, category_id, bbox, score}.</summary>
    public static IReadOnlyList<CocoDetection> ReadDetections(string path)
    {
        using (var document = ParseDocument(path))
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                throw new CocoFormatException(path, $"a results file must be a JSON list of detections, not {Describe(document.RootElement.ValueKind)}");
        var detections = Deserialize<List<CocoDetection>>(path, "a list of detections");
        for (int i = 0; i < detections.Count; i++)
            if (detections[i] is null || detections[i].Bbox is not { Length: 4 })
                throw new CocoFormatException(path, $"detection #{i}: \"bbox\" must be [x, y, w, h]");
        return detections;
    }

    public static void WriteDataset(string path, CocoDataset dataset) => WriteAtomically(path, dataset);

    public static void WriteDetections(string path, IEnumerable<CocoDetection> detections) => WriteAtomically(path, detections.ToList());

    private static T Deserialize<T>(string path, string what)
    {
        if (!System.IO.File.Exists(path)) throw new CocoFormatException(path, "file not found");
        try
        {
            using var stream = System.IO.File.OpenRead(path);
            return JsonSerializer.Deserialize<T>(stream, Options) ?? throw new CocoFormatException(path, $"expected {what}, found null");
        }
        catch (JsonException ex)
        {
            string where = ex.LineNumber is long line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : "";
            throw new CocoFormatException(path, $"not valid COCO JSON{where}: expected {what}. {ex.Message}");
        }
    }

    private static JsonDocument ParseDocument(string path)
    {
        if (!System.IO.File.Exists(path)) throw new CocoFormatException(path, "file not found");
        try
        {
            using var stream = System.IO.File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new CocoFormatException(path, $"not valid JSON (line {ex.LineNumber + 1}): {ex.Message}");
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static void WriteAtomically<T>(string path, T value)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        string temp = path + ".tmp";
        using (var stream = System.IO.File.Create(temp))
            JsonSerializer.Serialize(stream, value, WriteOptions);
        System.IO.File.Move(temp, path, overwrite: true);
    }
}
