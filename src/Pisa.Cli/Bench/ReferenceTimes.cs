using System.Globalization;

namespace Pisa.Cli.Bench;

/// <summary>The reference implementation's median stage time for one gt count, as WORKLOAD.md publishes it.</summary>
public sealed record ReferenceTime(int GtsPerImage, double TotalMs);

/// <summary>Reads the table "What the reference implementation takes" of the WORKLOAD.md beside a workload file.</summary>
public static class ReferenceTimes
{
    /// <summary>The rows <c>| G | assign | libra | score-hlr | isr-p | carl | total |</c>; empty when the file or table is absent.</summary>
    public static IReadOnlyList<ReferenceTime> Read(string workloadFile)
    {
        string file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(workloadFile)) ?? ".", "WORKLOAD.md");
        if (!File.Exists(file)) return [];
        var rows = new List<ReferenceTime>();
        foreach (string line in File.ReadLines(file))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            // "| 50 | 2.25 | 3.64 | 27.01 | 5.16 | 0.24 | 38.3 |" splits into 9 cells, the outer two empty.
            if (cells.Length == 9 && int.TryParse(cells[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int gts)
                && double.TryParse(cells[7], NumberStyles.Float, CultureInfo.InvariantCulture, out double total))
                rows.Add(new ReferenceTime(gts, total));
        }
        return rows;
    }
}
