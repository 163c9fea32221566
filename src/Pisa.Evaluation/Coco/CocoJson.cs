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
        // "NaN" and "Infinity" are read so the evaluator can reject them by entry, not as unreadable JSON.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString
            | System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = false };

    /// <summary>Reads an instances file: structure only (missing lists, wrong types, box arity). Semantic checks belong to the caller.</summary>
    public static CocoDataset ReadDataset(string path)
    {
        var dataset = Deserialize<CocoDataset>(path, "an object with images, categories and annotations");
        if (dataset.Images is null) throw new CocoFormatException(path, "missing \"images\" list");
        if (dataset.Categories is null) throw new CocoFormatException(path, "missing \"categories\" list");
        var annotations = dataset.Annotations ?? [];
        CheckNoNullEntry(path, "images", dataset.Images);
        CheckNoNullEntry(path, "categories", dataset.Categories);
        CheckNoNullEntry(path, "annotations", annotations);
        for (int i = 0; i < annotations.Count; i++)
            if (annotations[i].Bbox is not { Length: 4 })
                throw new CocoFormatException(path, $"annotations[{i}] (id {annotations[i].Id}): \"bbox\" must be [x, y, w, h]");
        return dataset with { Annotations = annotations };
    }

    /// <summary>
    /// Reads a results file: a JSON list of {image_id, category_id, bbox, score}. Structure only; the evaluator checks
    /// ids, boxes and scores against the ground truth.
    /// </summary>
    public static IReadOnlyList<CocoDetection> ReadDetections(string path)
    {
        byte[] bytes = ReadBytes(path);
        if (FirstToken(path, bytes) is var first and not JsonTokenType.StartArray)
            throw new CocoFormatException(path, $"a results file must be a JSON list of detections, not {Describe(first)}");
        var detections = Deserialize<List<CocoDetection>>(path, bytes, "a list of detections");
        CheckNoNullEntry(path, "the list", detections);
        for (int i = 0; i < detections.Count; i++)
            if (detections[i].Bbox is not { Length: 4 })
                throw new CocoFormatException(path, $"entry {i} of the list: \"bbox\" must be [x, y, w, h]");
        return detections;
    }

    private static void CheckNoNullEntry<T>(string path, string list, IReadOnlyList<T?> entries) where T : class
    {
        for (int i = 0; i < entries.Count; i++)
            if (entries[i] is null) throw new CocoFormatException(path, $"entry {i} of {list} is null");
    }

    public static void WriteDataset(string path, CocoDataset dataset) => WriteAtomically(path, dataset);

    public static void WriteDetections(string path, IEnumerable<CocoDetection> detections) => WriteAtomically(path, detections.ToList());

    private static T Deserialize<T>(string path, string what) => Deserialize<T>(path, ReadBytes(path), what);

    private static T Deserialize<T>(string path, byte[] bytes, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, Options) ?? throw new CocoFormatException(path, $"expected {what}, found null");
        }
        catch (JsonException ex)
        {
            string where = ex.LineNumber is long line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : "";
            throw new CocoFormatException(path, $"not valid COCO JSON{where}: expected {what}. {ex.Message}");
        }
    }

    private static byte[] ReadBytes(string path)
    {
        try
        {
            return System.IO.File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CocoFormatException(path, ex is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read: {ex.Message}");
        }
    }

    /// <summary>The kind of the first JSON token (comments skipped), to say what a file holds instead of what we expected.</summary>
    private static JsonTokenType FirstToken(string path, byte[] bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return reader.Read() ? reader.TokenType : JsonTokenType.None;
        }
        catch (JsonException ex)
        {
            throw new CocoFormatException(path, $"not valid JSON (line {ex.LineNumber + 1}): {ex.Message}");
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.None => "an empty file",
        _ => token.ToString(),
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
