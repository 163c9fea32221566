using System;
using System.Globalization;
using System.Text;

namespace Pisa.Generators;

/// <summary>
/// Builds generated source with explicit indentation, as dotnet/runtime's generators do.
/// Numbers go through <see cref="Number(double)"/> so output never depends on the build machine's culture.
/// </summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _builder = new();
    private int _indentation;

    public void Indent() => _indentation++;

    public void Unindent()
    {
        if (_indentation == 0) throw new InvalidOperationException("Unbalanced indentation.");
        _indentation--;
    }

    public void OpenBlock(string line)
    {
        WriteLine(line);
        WriteLine("{");
        Indent();
    }

    public void CloseBlock(string suffix = "")
    {
        Unindent();
        WriteLine("}" + suffix);
    }

    public void WriteLine() => _builder.Append('\n');

    /// <summary>Writes each line of <paramref name="text"/> at the current indentation (blank lines stay blank).</summary>
    public void WriteLine(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            string trimmed = line.TrimEnd('\r');
            if (trimmed.Length > 0)
                for (int i = 0; i < _indentation; i++) _builder.Append(IndentUnit);
            _builder.Append(trimmed).Append('\n');
        }
    }

    /// <summary>The finished text; the indentation must be back at zero.</summary>
    public string ToSourceText()
    {
        if (_indentation != 0) throw new InvalidOperationException($"Indentation is {_indentation}, not 0, at the end of the file.");
        return _builder.ToString();
    }

    /// <summary>A C# literal for <paramref name="value"/>: round-trippable, invariant, always with a decimal point or exponent.</summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "Recipe numbers are finite.");
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.IndexOfAny(new[] { '.', 'E', 'e' }) >= 0 ? text : text + ".0";
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture) + "L";

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";

    /// <summary>A verbatim-safe regular string literal.</summary>
    public static string String(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        return builder.Append('"').ToString();
    }
}
