using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace Pisa.Recipes;

/// <summary>Scalar text ⇄ typed values, culture-invariant, and the canonical text of the resolved form.</summary>
public static class RecipeValues
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly Regex SafePlain = new("^[A-Za-z_./][A-Za-z0-9_./:-]*$", RegexOptions.CultureInvariant);

    public static bool TryParseNumber(string text, out double value)
    {
        // YAML's .inf/.nan parse, so that they are reported as out of range rather than as "not a number".
        switch (text)
        {
            case ".inf" or ".Inf" or ".INF" or "+.inf": value = double.PositiveInfinity; return true;
            case "-.inf" or "-.Inf" or "-.INF": value = double.NegativeInfinity; return true;
            case ".nan" or ".NaN" or ".NAN": value = double.NaN; return true;
        }
        return double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, Invariant, out value);
    }

    public static bool TryParseInteger(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, Invariant, out value);

    public static bool TryParseBoolean(string text, out bool value)
    {
        value = text is "true" or "True" or "TRUE";
        return value || text is "false" or "False" or "FALSE";
    }

    /// <summary>Shortest round-trip text (<c>0.2</c>, <c>2</c>, <c>1e-05</c>): messages and variant names.</summary>
    public static string FormatPlain(double value) => value.ToString("R", Invariant).Replace("E", "e");

    /// <summary>Canonical number text: round-trip, always with a point or exponent so it reads as a float (<c>2.0</c>).</summary>
    public static string FormatNumber(double value)
    {
        string text = FormatPlain(value);
        return text.IndexOf('.') >= 0 || text.IndexOf('e') >= 0 ? text : text + ".0";
    }

    public static string FormatInteger(long value) => value.ToString(Invariant);

    public static string FormatBoolean(bool value) => value ? "true" : "false";

    /// <summary>A string as YAML: plain when that reads back as the same string, else double-quoted.</summary>
    public static string FormatText(string value)
    {
        bool plainIsString = SafePlain.IsMatch(value) && !TryParseBoolean(value, out _) && value is not ("null" or "Null" or "NULL" or "~")
            && !TryParseNumber(value, out _);
        return plainIsString ? value : "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    /// <summary>A value as messages quote it: at most <paramref name="max"/> characters, a longer one cut with its length.</summary>
    public static string Shorten(string text, int max = 60) =>
        text.Length <= max ? text : text.Substring(0, max - 1) + "…" + $" ({text.Length.ToString(Invariant)} characters)";

    public static string FormatList(System.Collections.Generic.IEnumerable<long> values) => "[" + string.Join(", ", values.Select(FormatInteger)) + "]";
}
