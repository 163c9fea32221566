using System.Text.Json;

namespace Pisa.Conformance;

/// <summary>A case file that cannot be run as written; the message names the key or entry at fault.</summary>
public sealed class MalformedCaseException(string message) : Exception(message);

/// <summary>A flat, row-major array with a shape and a dtype, as FORMAT.md writes tensors.</summary>
/// <param name="Dtype">float32, float64, int64 or bool.</param>
/// <param name="Shape">dimensions; empty for a scalar.</param>
/// <param name="Data">the values as doubles (ints and bools are exact in a double up to 2^53).</param>
public sealed record CaseArray(string Dtype, long[] Shape, double[] Data)
{
    /// <summary>Whether values compare with a tolerance (float32 / float64) or exactly.</summary>
    public bool IsFloat => Dtype is "float32" or "float64";
}

/// <summary>An expected output: a tensor, ordered index groups, or counts per interval / key.</summary>
public abstract record ExpectedOutput;

/// <summary>An expected tensor.</summary>
public sealed record ExpectedArray(CaseArray Array) : ExpectedOutput;

/// <summary>Expected <c>{"kind":"groups"}</c>: lists of indices compared as ordered lists.</summary>
public sealed record ExpectedGroups(long[][] Groups) : ExpectedOutput;

/// <summary>Expected <c>{"kind":"counts"}</c>: per IoU interval (<see cref="Bins"/> edges) or per gt id (<see cref="Keys"/>).</summary>
public sealed record ExpectedCounts(double[]? Bins, long[]? Keys, long[] Counts) : ExpectedOutput;

/// <summary>One parsed conformance case (FORMAT.md).</summary>
public sealed record ConformanceCase(
    string File, string Name, string Op, JsonElement Params,
    IReadOnlyDictionary<string, CaseArray> Inputs, IReadOnlyDictionary<string, ExpectedOutput> Outputs,
    double Rtol, double Atol)
{
    /// <summary>The default tolerances when a case gives none.</summary>
    public const double DefaultRtol = 1e-4, DefaultAtol = 1e-5;

    /// <summary>Reads a case file; throws <see cref="MalformedCaseException"/> with the reason when it is not a valid case.</summary>
    /// <param name="requireOutputs">false for input-only files in the same layout (the benchmark workload).</param>
    public static ConformanceCase Read(string file, bool requireOutputs = true)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(System.IO.File.ReadAllText(file)); }
        catch (JsonException ex) { throw new MalformedCaseException($"bad JSON at line {ex.LineNumber + 1}: {ex.Message}"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new MalformedCaseException("the file is not a JSON object");
            string format = RequiredString(root, "format");
            if (format != "pisa-case/1") throw new MalformedCaseException($"format '{format}' is not pisa-case/1");
            string op = RequiredString(root, "op");
            string name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : Path.GetFileNameWithoutExtension(file);
            var parameters = root.TryGetProperty("params", out var p) ? p.Clone() : JsonDocument.Parse("{}").RootElement.Clone();
            if (parameters.ValueKind != JsonValueKind.Object) throw new MalformedCaseException("'params' is not an object");
            var inputs = ReadMap(root, "inputs", required: true, (key, e) => ReadArray($"inputs.{key}", e));
            var outputs = ReadMap(root, "outputs", requireOutputs, ReadExpected);
            double rtol = DefaultRtol, atol = DefaultAtol;
            if (root.TryGetProperty("tolerance", out var t))
            {
                rtol = OptionalNumber(t, "rtol", "tolerance.rtol") ?? DefaultRtol;
                atol = OptionalNumber(t, "atol", "tolerance.atol") ?? DefaultAtol;
            }
            return new ConformanceCase(file, name, op, parameters, inputs, outputs, rtol, atol);
        }
    }

    private static Dictionary<string, T> ReadMap<T>(JsonElement root, string key, bool required, Func<string, JsonElement, T> read)
    {
        if (!root.TryGetProperty(key, out var map))
        {
            if (required) throw new MalformedCaseException($"missing '{key}'");
            return [];
        }
        if (map.ValueKind != JsonValueKind.Object) throw new MalformedCaseException($"'{key}' is not an object");
        return map.EnumerateObject().ToDictionary(e => e.Name, e => read(e.Name, e.Value));
    }

    private static ExpectedOutput ReadExpected(string key, JsonElement e)
    {
        string where = $"outputs.{key}";
        if (e.ValueKind != JsonValueKind.Object) throw new MalformedCaseException($"'{where}' is not an object");
        if (!e.TryGetProperty("kind", out var kind)) return new ExpectedArray(ReadArray(where, e));
        switch (kind.GetString())
        {
            case "groups":
                return new ExpectedGroups(RequiredArray(e, "data", where).EnumerateArray()
                    .Select((g, i) => g.ValueKind == JsonValueKind.Array ? g.EnumerateArray().Select(x => ReadLong(x, $"{where}.data[{i}]")).ToArray()
                        : throw new MalformedCaseException($"'{where}.data[{i}]' is not a list")).ToArray());
            case "counts":
                var counts = RequiredArray(e, "data", where).EnumerateArray().Select((x, i) => ReadLong(x, $"{where}.data[{i}]")).ToArray();
                double[]? bins = e.TryGetProperty("bins", out var b) ? b.EnumerateArray().Select((x, i) => ReadDouble(x, $"{where}.bins[{i}]")).ToArray() : null;
                long[]? keys = e.TryGetProperty("keys", out var k) ? k.EnumerateArray().Select((x, i) => ReadLong(x, $"{where}.keys[{i}]")).ToArray() : null;
                if ((bins is null) == (keys is null)) throw new MalformedCaseException($"'{where}' needs exactly one of 'bins' or 'keys'");
                int expectedLength = keys?.Length ?? bins!.Length - 1;
                if (counts.Length != expectedLength && !(bins is not null && counts.Length == bins.Length))
                    throw new MalformedCaseException($"'{where}' has {counts.Length} counts for {(keys is null ? $"{bins!.Length} bin edges" : $"{keys.Length} keys")}");
                return new ExpectedCounts(bins, keys, counts);
            default:
                throw new MalformedCaseException($"'{where}.kind' is '{kind}', not groups or counts");
        }
    }

    /// <summary>Reads <c>{"dtype","shape","data"}</c>, checking the data length against the shape.</summary>
    private static CaseArray ReadArray(string where, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new MalformedCaseException($"'{where}' is not an object");
        string dtype = RequiredString(e, "dtype", where);
        if (dtype is not ("float32" or "float64" or "int64" or "bool"))
            throw new MalformedCaseException($"'{where}.dtype' is '{dtype}', not float32, float64, int64 or bool");
        long[] shape = RequiredArray(e, "shape", where).EnumerateArray().Select((x, i) => ReadLong(x, $"{where}.shape[{i}]")).ToArray();
        if (shape.Any(d => d < 0)) throw new MalformedCaseException($"'{where}.shape' has a negative dimension");
        var data = RequiredArray(e, "data", where).EnumerateArray().Select((x, i) => dtype == "bool" ? ReadBool(x, $"{where}.data[{i}]") : ReadDouble(x, $"{where}.data[{i}]")).ToArray();
        long elements = shape.Aggregate(1L, (a, d) => a * d);
        if (data.Length != elements)
            throw new MalformedCaseException($"'{where}': shape [{string.Join(",", shape)}] needs {elements} values, data has {data.Length}");
        if (dtype == "int64" && data.Any(v => v != Math.Floor(v)))
            throw new MalformedCaseException($"'{where}': int64 data holds a non-integer");
        return new CaseArray(dtype, shape, data);
    }

    private static string RequiredString(JsonElement e, string key, string? where = null) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new MalformedCaseException($"missing string '{(where is null ? key : $"{where}.{key}")}'");

    private static JsonElement RequiredArray(JsonElement e, string key, string where) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v
            : throw new MalformedCaseException($"missing list '{where}.{key}'");

    private static double? OptionalNumber(JsonElement e, string key, string where) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) ? ReadDouble(v, where) : null;

    private static double ReadDouble(JsonElement e, string where) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        // JSON has no NaN / Infinity; a case may spell them as strings.
        JsonValueKind.String when e.GetString() is "NaN" or "nan" => double.NaN,
        JsonValueKind.String when e.GetString() is "Infinity" or "inf" => double.PositiveInfinity,
        JsonValueKind.String when e.GetString() is "-Infinity" or "-inf" => double.NegativeInfinity,
        _ => throw new MalformedCaseException($"'{where}' is not a number"),
    };

    private static double ReadBool(JsonElement e, string where) => e.ValueKind switch
    {
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        JsonValueKind.Number when e.GetDouble() is 0 or 1 => e.GetDouble(),
        _ => throw new MalformedCaseException($"'{where}' is not a bool"),
    };

    private static long ReadLong(JsonElement e, string where) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : throw new MalformedCaseException($"'{where}' is not an integer");
}
