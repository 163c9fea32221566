using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Pisa.Recipes;

/// <summary>
/// A minimal ordered JSON writer (objects keep insertion order), so the schema is stable text without a JSON
/// package in this netstandard2.0 assembly. Values: <see cref="JsonObject"/>, <see cref="List{T}"/> of values,
/// string, double, int, long, bool and null.
/// </summary>
internal sealed class JsonObject : List<KeyValuePair<string, object?>>
{
    public JsonObject Set(string key, object? value)
    {
        Add(new KeyValuePair<string, object?>(key, value));
        return this;
    }
}

internal static class JsonText
{
    public static string Write(object? value)
    {
        var text = new StringBuilder();
        WriteValue(value, 0, text);
        return text.Append('\n').ToString();
    }

    private static void WriteValue(object? value, int indent, StringBuilder text)
    {
        switch (value)
        {
            case null: text.Append("null"); break;
            case bool b: text.Append(b ? "true" : "false"); break;
            case string s: WriteString(s, text); break;
            case double d: text.Append(RecipeValues.FormatPlain(d)); break;
            case int i: text.Append(i.ToString(CultureInfo.InvariantCulture)); break;
            case long l: text.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case JsonObject o: WriteObject(o, indent, text); break;
            case IEnumerable<object?> list: WriteArray(list.ToList(), indent, text); break;
            default: throw new System.ArgumentException($"not a JSON value: {value.GetType()}");
        }
    }

    private static void WriteObject(JsonObject o, int indent, StringBuilder text)
    {
        if (o.Count == 0) { text.Append("{}"); return; }
        text.Append("{\n");
        for (int i = 0; i < o.Count; i++)
        {
            text.Append(' ', indent + 2);
            WriteString(o[i].Key, text);
            text.Append(": ");
            WriteValue(o[i].Value, indent + 2, text);
            text.Append(i < o.Count - 1 ? ",\n" : "\n");
        }
        text.Append(' ', indent).Append('}');
    }

    private static void WriteArray(List<object?> items, int indent, StringBuilder text)
    {
        // Arrays of scalars (enums, required lists) stay on one line; they are read as a set.
        if (items.All(i => i is not JsonObject && i is not IEnumerable<object?>))
        {
            text.Append('[');
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) text.Append(", ");
                WriteValue(items[i], indent, text);
            }
            text.Append(']');
            return;
        }
        text.Append("[\n");
        for (int i = 0; i < items.Count; i++)
        {
            text.Append(' ', indent + 2);
            WriteValue(items[i], indent + 2, text);
            text.Append(i < items.Count - 1 ? ",\n" : "\n");
        }
        text.Append(' ', indent).Append(']');
    }

    private static void WriteString(string s, StringBuilder text)
    {
        text.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c < ' ') text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }
}
