using ScottPlot;

namespace Pisa.Training.Runs;

/// <summary>One line of a line plot.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>PNG charts of a run (ScottPlot 5): loss curves and per-class or per-variant bars. Files are written whole, then renamed.</summary>
public static class Plots
{
    /// <summary>A line per series, with a legend when there is more than one.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series, int width = 800, int height = 500)
    {
        var plot = new Plot();
        foreach (var s in series)
        {
            if (s.X.Count != s.Y.Count) throw new ArgumentException($"series '{s.Name}' has {s.X.Count} x values and {s.Y.Count} y values");
            var line = plot.Add.Scatter(s.X.ToArray(), s.Y.ToArray());
            line.LegendText = s.Name;
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }
        if (series.Count > 1) plot.ShowLegend();
        Save(plot, path, title, xLabel, yLabel, width, height);
    }

    /// <summary>One labelled bar per value, in the given order.</summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<(string Label, double Value)> bars, int width = 800, int height = 500)
    {
        var plot = new Plot();
        plot.Add.Bars(bars.Select(b => b.Value).ToArray());
        double[] positions = Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, bars.Select(b => b.Label).ToArray());
        plot.Axes.Margins(bottom: 0);
        Save(plot, path, title, "", yLabel, width, height);
    }

    private static void Save(Plot plot, string path, string title, string xLabel, string yLabel, int width, int height)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        // ScottPlot picks the format from the extension, so the temporary name ends in .png too.
        string temp = Path.Combine(directory ?? ".", $".{Path.GetFileNameWithoutExtension(path)}.{Guid.NewGuid():N}.png");
        plot.SavePng(temp, width, height);
        File.Move(temp, path, overwrite: true);
    }
}
