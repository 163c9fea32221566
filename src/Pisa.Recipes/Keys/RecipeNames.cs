using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Pisa.Recipes;

/// <summary>Names: recipe → type name, variant point names, and "did you mean" hints.</summary>
public static class RecipeNames
{
    /// <summary><c>pisa-faster-rcnn</c> → <c>PisaFasterRcnn</c>; also <c>score_hlr</c> → <c>ScoreHlr</c>.</summary>
    public static string TypeName(string name) => Pascal(name);

    /// <summary>PascalCase of the letter-and-digit words of <paramref name="text"/>.</summary>
    public static string Pascal(string text)
    {
        var builder = new StringBuilder(text.Length);
        bool startWord = true;
        foreach (char c in text)
        {
            if (!char.IsLetterOrDigit(c)) { startWord = true; continue; }
            builder.Append(startWord ? char.ToUpperInvariant(c) : c);
            startWord = false;
        }
        return builder.ToString();
    }

    /// <summary>The label of a variant axis: its last two key segments (<c>loss.cls.isr.k</c> → <c>IsrK</c>).</summary>
    public static string AxisLabel(string path, bool full = false)
    {
        string[] parts = path.Split('.');
        return string.Concat(parts.Skip(full ? 0 : Math.Max(0, parts.Length - 2)).Select(Pascal));
    }

    /// <summary>A value in a point name: <c>0.2</c> → <c>0p2</c>, <c>-1</c> → <c>m1</c>, <c>score_hlr</c> → <c>ScoreHlr</c>.</summary>
    public static string ValueLabel(string canonical)
    {
        if (RecipeValues.TryParseNumber(canonical, out double number))
            return RecipeValues.FormatPlain(number).Replace("-", "m").Replace("+", "").Replace(".", "p");
        return Pascal(canonical.Trim('"'));
    }

    /// <summary>Optimal-string-alignment distance, ignoring case and treating '-' and '_' alike.</summary>
    public static int Distance(string a, string b)
    {
        a = Normalize(a);
        b = Normalize(b);
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    private static string Normalize(string s) => s.ToLowerInvariant().Replace('-', '_');

    /// <summary>The closest candidate within a third of the word's length (at least 1, at most 3 edits), or null.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        int limit = Math.Max(1, Math.Min(3, word.Length / 3));
        return candidates
            .Select(c => (Candidate: c, Distance: Distance(word, c)))
            .Where(x => x.Distance <= limit && x.Candidate != word)
            .OrderBy(x => x.Distance)
            .Select(x => x.Candidate)
            .FirstOrDefault();
    }

    /// <summary><c>; did you mean 'x'?</c> from the synonyms table first, then by edit distance; or empty.</summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates)
    {
        var list = candidates as IReadOnlyCollection<string> ?? candidates.ToList();
        if (RecipeSynonyms.Ours(word, list) is string ours) return $"; did you mean '{ours}'? (our name for '{word}')";
        return Closest(word, list) is string near ? $"; did you mean '{near}'?" : "";
    }
}
