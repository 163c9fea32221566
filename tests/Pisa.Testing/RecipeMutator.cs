namespace Pisa.Testing;

/// <summary>Seeded text mutations of recipe files, shared by the recipe loader's and the generator's robustness tests.</summary>
public static class RecipeMutator
{
    public static readonly string[] TypeSwaps = ["\"text\"", "[1, 2]", "{ a: 1 }", "true", "~", "", "abc", "0x1F", "1e400", ".nan", "-.inf", "'0.5'", "&a 1", "*a", "!!int 3"];
    public static readonly string[] Numbers = ["-1", "-0.0001", "0", "1.5", "2", "1e9", "2147483648", "-2147483649", "0.5", "3", "0,5", "1_000"];
    public static readonly string[] Punctuation = [":", "{", "}", "[", "]", ",", "#", "\"", "'", "|", ">", "- ", "---\n", "<<: ", "&x ", "*x", "\t", "? ", "%YAML 1.2\n", "@",
        "\"\\U0000D800\"", "\"\\x4\"", "\\", "\u0000", "\uFEFF", "\u2028", "%TAG ! tag:x,2000:\n", "!local ", "? [a]\n: 1\n", "... \n"];

    /// <summary>One random edit of a recipe text: delete or duplicate a line, misspell a key, swap a value's type, an odd
    /// number, broken indentation, YAML punctuation, or truncation.</summary>
    public static string Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        int at = random.Next(lines.Count);
        switch (random.Next(8))
        {
            case 0: // delete a line
                lines.RemoveAt(at);
                break;
            case 1: // duplicate a line
                lines.Insert(at, lines[at]);
                break;
            case 2: // misspell a key: drop, double, swap or replace one letter before the colon
                lines[at] = MisspellKey(lines[at], random);
                break;
            case 3: // swap a value's type
                lines[at] = ReplaceValue(lines[at], TypeSwaps[random.Next(TypeSwaps.Length)], random);
                break;
            case 4: // an out-of-range or odd number
                lines[at] = ReplaceValue(lines[at], Numbers[random.Next(Numbers.Length)], random);
                break;
            case 5: // break the indentation
                lines[at] = random.Next(2) == 0 ? new string(' ', 1 + random.Next(3)) + lines[at] : lines[at].TrimStart();
                break;
            case 6: // YAML punctuation somewhere in a line
                int column = random.Next(lines[at].Length + 1);
                lines[at] = lines[at].Insert(column, Punctuation[random.Next(Punctuation.Length)]);
                break;
            default: // truncate the file
                string joined = string.Join("\n", lines);
                return joined.Substring(0, random.Next(joined.Length + 1));
        }
        return string.Join("\n", lines);
    }

    private static string MisspellKey(string line, Random random)
    {
        int colon = line.IndexOf(':');
        int start = line.Length - line.TrimStart(' ', '{', '-').Length;
        if (colon <= start + 1) return line;
        int i = start + random.Next(colon - start - 1);
        return random.Next(4) switch
        {
            0 => line.Remove(i, 1),
            1 => line.Insert(i, line[i].ToString()),
            2 => line.Substring(0, i) + line[i + 1] + line[i] + line.Substring(i + 2),
            _ => line.Substring(0, i) + (char)('a' + random.Next(26)) + line.Substring(i + 1),
        };
    }

    private static string ReplaceValue(string line, string value, Random random)
    {
        // Replace the text after one of the line's ": " (flow mappings have several).
        var colons = Enumerable.Range(0, line.Length).Where(i => line[i] == ':' && i + 1 < line.Length && line[i + 1] == ' ').ToList();
        if (colons.Count == 0) return line;
        int colon = colons[random.Next(colons.Count)] + 2;
        int end = line.IndexOfAny([',', '}'], colon);
        return line.Substring(0, colon) + value + (end < 0 ? "" : line.Substring(end));
    }
}
