using System.Globalization;
using Pisa.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Conformance;

/// <summary>The outcome of one case file.</summary>
/// <param name="File">the case file.</param>
/// <param name="Name">the case name (the file name when the file could not be read).</param>
/// <param name="Passed">whether every named output matched.</param>
/// <param name="MaxAbsError">largest absolute error over all compared elements (0 when nothing numeric was compared).</param>
/// <param name="MaxRelError">largest <c>|got - want| / |want|</c> over elements with <c>want != 0</c>.</param>
/// <param name="Worst">the element with the largest excess over its tolerance (or the largest error), e.g. <c>loss[3,1]</c>.</param>
/// <param name="Reason">why it failed; null when it passed.</param>
public sealed record CaseResult(string File, string Name, bool Passed, double MaxAbsError, double MaxRelError, string? Worst, string? Reason)
{
    /// <summary>The report line: name, PASS or FAIL, errors, worst element, and for a failure the reason and the file.</summary>
    public override string ToString()
    {
        // With no error at all there is no worst element to point at.
        string worst = MaxAbsError > 0 || !Passed ? Worst ?? "-" : "-";
        string errors = string.Create(CultureInfo.InvariantCulture, $"max_abs={MaxAbsError:G3} max_rel={MaxRelError:G3} worst={worst}");
        return Passed ? $"PASS  {Name}  {errors}" : $"FAIL  {Name}  {errors}  {Reason} ({File})";
    }
}

/// <summary>
/// Runs conformance case files (FORMAT.md) through the kernels. Never throws on a bad case: a malformed file, an
/// unknown op, a missing input or a shape mismatch is a failed case with its reason. (It converts to and from host
/// arrays freely: it is not the per-step path.)
/// </summary>
public static class ConformanceRunner
{
    /// <summary>Every <c>*.json</c> case under the given files and folders (folders recursively, sorted by path).</summary>
    public static IReadOnlyList<string> CaseFiles(IEnumerable<string> paths) =>
        paths.SelectMany<string, string>(p => Directory.Exists(p)
                ? Directory.EnumerateFiles(p, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                : new[] { p })
            .ToList();

    /// <summary>Runs every case under <paramref name="paths"/>.</summary>
    public static IReadOnlyList<CaseResult> Run(IEnumerable<string> paths) => CaseFiles(paths).Select(RunFile).ToList();

    /// <summary>Runs one case file.</summary>
    public static CaseResult RunFile(string file)
    {
        string name = Path.GetFileNameWithoutExtension(file);
        try
        {
            if (!File.Exists(file)) return Failed(file, name, "no such file");
            var c = ConformanceCase.Read(file);
            return RunCase(c);
        }
        catch (MalformedCaseException ex) { return Failed(file, name, $"malformed case: {ex.Message}"); }
        catch (IOException ex) { return Failed(file, name, $"cannot read: {ex.Message}"); }
        catch (UnauthorizedAccessException ex) { return Failed(file, name, $"cannot read: {ex.Message}"); }
    }

    /// <summary>Runs one parsed case.</summary>
    public static CaseResult RunCase(ConformanceCase c)
    {
        if (!CaseOps.All.TryGetValue(c.Op, out var op)) return Failed(c.File, c.Name, $"unknown op '{c.Op}'");
        using var scope = NewDisposeScope();
        Dictionary<string, Produced> produced;
        try { produced = op(new CaseContext(c)); }
        catch (MalformedCaseException ex) { return Failed(c.File, c.Name, $"malformed case: {ex.Message}"); }
        catch (Exception ex)
        {
            // libtorch rejects inputs it cannot compute (e.g. incompatible shapes): a failed case with the reason, never a crash.
            return Failed(c.File, c.Name, $"the op rejected the inputs: {FirstLine(ex.Message)}");
        }

        var comparison = new Comparison();
        foreach (var (outputName, expected) in c.Outputs)
        {
            if (!produced.TryGetValue(outputName, out var got))
            {
                comparison.Fail($"op '{c.Op}' produces no output '{outputName}' (it produces {string.Join(", ", produced.Keys)})");
                continue;
            }
            comparison.Compare(outputName, expected, got, c.Rtol, c.Atol);
        }
        return new CaseResult(c.File, c.Name, comparison.Reason is null, comparison.MaxAbs, comparison.MaxRel, comparison.Worst, comparison.Reason);
    }

    /// <summary>The summary line: <c>conformance: N passed, N failed</c>.</summary>
    public static string Summary(IReadOnlyCollection<CaseResult> results) =>
        $"conformance: {results.Count(r => r.Passed)} passed, {results.Count(r => !r.Passed)} failed";

    private static CaseResult Failed(string file, string name, string reason) => new(file, name, false, 0, 0, null, reason);

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    /// <summary>Accumulates errors over a case's outputs; the first failure's reason is kept.</summary>
    private sealed class Comparison
    {
        // The worst element is the one whose error uses the largest share of its allowance (abs / (atol + rtol |want|)),
        // ties to the larger error: an element without error is never worse than one with some.
        private double _worstShare = -1, _worstAbs = -1;

        public double MaxAbs { get; private set; }
        public double MaxRel { get; private set; }
        public string? Worst { get; private set; }
        public string? Reason { get; private set; }

        public void Fail(string reason) => Reason ??= reason;

        public void Compare(string name, ExpectedOutput expected, Produced got, double rtol, double atol)
        {
            switch (expected, got)
            {
                case (ExpectedArray want, ProducedTensor tensor): CompareArrays(name, want.Array, tensor.Value, rtol, atol); break;
                case (ExpectedGroups want, ProducedGroups groups): CompareGroups(name, want.Groups, groups.Groups); break;
                case (ExpectedCounts want, ProducedSample sample): CompareCounts(name, want, sample.Values); break;
                default: Fail($"output '{name}': the case expects a {KindOf(expected)}, the op produces a {KindOf(got)}"); break;
            }
        }

        private void CompareArrays(string name, CaseArray want, Tensor got, double rtol, double atol)
        {
            long[] shape = got.shape;
            if (!shape.SequenceEqual(want.Shape))
            {
                Fail($"output '{name}': shape [{string.Join(",", shape)}] but the case says [{string.Join(",", want.Shape)}]");
                return;
            }
            double[] values = CaseOps.HostValues<double>(got.to(float64));
            bool exact = !want.IsFloat || !(got.is_floating_point());
            for (int i = 0; i < values.Length; i++)
            {
                double w = want.Data[i], g = values[i];
                bool bothNaN = double.IsNaN(w) && double.IsNaN(g);
                double abs = bothNaN || w == g ? 0 : Math.Abs(g - w);
                if (double.IsNaN(abs)) abs = double.PositiveInfinity;
                double rel = w != 0 ? abs / Math.Abs(w) : 0;
                double allowed = exact ? 0 : atol + rtol * Math.Abs(w);
                MaxAbs = Math.Max(MaxAbs, abs);
                MaxRel = Math.Max(MaxRel, rel);
                double share = allowed > 0 ? abs / allowed : abs > 0 ? double.PositiveInfinity : 0;
                if (share > _worstShare || (share == _worstShare && abs > _worstAbs))
                {
                    (_worstShare, _worstAbs) = (share, abs);
                    Worst = $"{name}[{string.Join(",", Unravel(i, shape))}]";
                }
                if (abs > allowed)
                    Fail(string.Create(CultureInfo.InvariantCulture, $"output '{name}' element [{string.Join(",", Unravel(i, shape))}]: got {g:R}, want {w:R}"));
            }
        }

        private void CompareGroups(string name, long[][] want, long[][] got)
        {
            for (int i = 0; i < Math.Max(want.Length, got.Length); i++)
            {
                string w = i < want.Length ? $"[{string.Join(",", want[i])}]" : "none";
                string g = i < got.Length ? $"[{string.Join(",", got[i])}]" : "none";
                if (w == g) continue;
                Worst ??= $"{name}[{i}]";
                Fail($"output '{name}' group {i}: got {g}, want {w}");
                return;
            }
        }

        /// <summary>Counts per key (value == key), or per interval of the bin edges: [e_i, e_i+1), the last one closed at the top;
        /// with as many counts as edges, the last interval is [e_last, +inf).</summary>
        private void CompareCounts(string name, ExpectedCounts want, double[] values)
        {
            long[] got;
            if (want.Keys is not null)
            {
                got = want.Keys.Select(k => (long)values.Count(v => v == k)).ToArray();
                long unkeyed = values.Count(v => !want.Keys.Contains((long)v));
                if (unkeyed > 0) Fail($"output '{name}': {unkeyed} sampled items have a gt id outside the case's keys");
            }
            else
            {
                var edges = want.Bins!;
                int intervals = want.Counts.Length;
                got = new long[intervals];
                foreach (double v in values)
                    for (int i = 0; i < intervals; i++)
                    {
                        double hi = i + 1 < edges.Length ? edges[i + 1] : double.PositiveInfinity;
                        bool last = i == intervals - 1;
                        if (v >= edges[i] && (v < hi || (last && v <= hi))) { got[i]++; break; }
                    }
            }
            for (int i = 0; i < got.Length; i++)
            {
                double abs = Math.Abs(got[i] - want.Counts[i]);
                MaxAbs = Math.Max(MaxAbs, abs);
                if (want.Counts[i] != 0) MaxRel = Math.Max(MaxRel, abs / want.Counts[i]);
                if (abs > 0 && Worst is null) Worst = $"{name}[{i}]";
            }
            if (!got.SequenceEqual(want.Counts))
                Fail($"output '{name}': counts [{string.Join(",", got)}], want [{string.Join(",", want.Counts)}]");
        }

        private static long[] Unravel(long flat, long[] shape)
        {
            var index = new long[shape.Length];
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = shape[d] == 0 ? 0 : flat % shape[d];
                flat = shape[d] == 0 ? 0 : flat / shape[d];
            }
            return index;
        }

        private static string KindOf(object o) => o switch
        {
            ExpectedArray or ProducedTensor => "tensor",
            ExpectedGroups or ProducedGroups => "groups list",
            _ => "counts",
        };
    }
}
