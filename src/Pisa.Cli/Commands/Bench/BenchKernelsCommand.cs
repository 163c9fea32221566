using System.ComponentModel;
using Pisa.Cli.Bench;
using Spectre.Console.Cli;
using static Pisa.Cli.Commands.Bench.BenchSupport;
using static TorchSharp.torch;

namespace Pisa.Cli.Commands.Bench;

/// <summary><c>pisa bench kernels [--json out.json] [--threads 1]</c>: the sampling-stage benchmark of WORKLOAD.md.</summary>
public sealed class BenchKernelsCommand : Command<BenchKernelsCommand.Settings>
{
    public sealed class Settings : BenchSettings
    {
        [CommandOption("--workload <FILE>")]
        [Description("The dumped instance (default ../shared/bench/coco_like_g15_seed0.json beside the repository).")]
        public string? Workload { get; init; }

        [CommandOption("--max-proposals <N>")]
        [Description("Largest generated size, proposals per image (default 65536).")]
        public int MaxProposals { get; init; } = 65536;

        [CommandOption("--loop-port-max <N>")]
        [Description("Time the loop port up to this many proposals per image (default 4096; it is slow above).")]
        public int LoopPortMax { get; init; } = 4096;
    }

    private static readonly int[] GtCounts = [5, 15, 50];
    private static readonly int[] ProposalCounts = [1024, 4096, 16384, 65536];
    private static readonly int[] ClassCounts = [20, 320];

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        settings.ApplyThreads();
        bool cpuClock = settings.CpuClock;
        string workloadFile = settings.Workload ?? DefaultWorkload();
        if (!File.Exists(workloadFile)) throw new PisaUserException($"pisa bench: workload file not found: {workloadFile}");

        var results = new List<SizeResult>();
        void Run(Workload w, int repeats, bool loop)
        {
            var result = KernelBench.Measure(w, repeats, loop, cpuClock);
            results.Add(result);
            Console.WriteLine(Row(result));
        }

        Console.WriteLine($"pisa bench kernels: libtorch threads {get_num_threads()}, {settings.Clock} clock, 2 images, 512 samples at 0.25, medians in ms (fused | loop port)");
        Console.WriteLine(Header());
        Run(Workload.Read(workloadFile), 15, loop: true);
        foreach (int gts in GtCounts)
            Run(Workload.Generate(seed: gts, images: 2, gtsPerImage: gts, proposalsPerImage: 2000), 15, loop: true);
        foreach (int classes in ClassCounts) // G15, 2000 proposals (80 classes is the row above)
            Run(Workload.Generate(seed: 15, images: 2, gtsPerImage: 15, proposalsPerImage: 2000, numClasses: classes), 15, loop: true);
        foreach (int proposals in ProposalCounts.Where(p => p <= settings.MaxProposals))
            foreach (int gts in GtCounts)
                Run(Workload.Generate(seed: gts * 7 + proposals, images: 2, gtsPerImage: gts, proposalsPerImage: proposals),
                    proposals <= 4096 ? 9 : proposals <= 16384 ? 3 : 1, loop: proposals <= settings.LoopPortMax);

        Console.WriteLine();
        Console.WriteLine("growth of the fused total with candidates (exponent k in time ~ n^k between successive sizes; n log n is about 1.1), gts and classes:");
        foreach (int gts in GtCounts)
        {
            var series = results.Where(r => r.GtsPerImage == gts && r.Workload.StartsWith("generated") && ProposalCounts.Contains((int)r.ProposalsPerImage))
                .OrderBy(r => r.ProposalsPerImage).ToList();
            var steps = series.Zip(series.Skip(1), (a, b) =>
                F($"{a.ProposalsPerImage}->{b.ProposalsPerImage}: {Math.Log(b.Fused.Total / a.Fused.Total) / Math.Log((double)b.ProposalsPerImage / a.ProposalsPerImage):0.00}"));
            Console.WriteLine($"  G={gts}: {string.Join(", ", steps)}");
        }

        SizeResult Row2000(int gts, int classes = 80) =>
            results.First(r => r.Workload == F($"generated_g{gts}_p2000{(classes == 80 ? "" : F($"_c{classes}"))}"));
        Console.WriteLine(F($"  with gts 5 -> 15 -> 50 (2000 proposals, 80 classes): {Series(GtCounts.Select(g => Row2000(g)).ToList())}"));
        Console.WriteLine(F($"  with classes 20 -> 80 -> 320 (G=15, 2000 proposals): {Series([Row2000(15, 20), Row2000(15), Row2000(15, 320)])}"));

        var floorWorkload = Workload.Generate(seed: 50, images: 2, gtsPerImage: 50, proposalsPerImage: 2000);
        var opFloor = KernelBench.MeasureOpFloor(floorWorkload, 31, cpuClock);
        Console.WriteLine();
        Console.WriteLine(OpFloorReport(opFloor, Row2000(50)));
        var reference = ReferenceTimes.Read(workloadFile);
        if (reference.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("against the reference implementation's own times (WORKLOAD.md: mmdetection, libtorch 1.13, one thread):");
            foreach (var row in reference.Where(row => GtCounts.Contains(row.GtsPerImage)))
            {
                double fused = Row2000(row.GtsPerImage).Fused.Total;
                Console.WriteLine(F($"  G={row.GtsPerImage,-3} reference {row.TotalMs,6:0.0} ms, fused {fused,6:0.00} ms: {row.TotalMs / fused,4:0.0}x faster (a fifth of the reference: {row.TotalMs / 5:0.00} ms)"));
            }
        }

        settings.WriteJson(new { threads = get_num_threads(), clock = settings.Clock, workload = workloadFile, results, opFloor, reference });
        return PisaApp.Ok;
    }

    // The shared folder sits beside the repository (the folder holding Pisa.Dsl.sln).
    private static string DefaultWorkload() =>
        Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "bench", "coco_like_g15_seed0.json"));

    /// <summary>The fused and loop-port totals along a series of sizes, and how much the last grew over the first.</summary>
    private static string Series(IReadOnlyList<SizeResult> rows)
    {
        string Totals(Func<SizeResult, double?> total) =>
            string.Join(" -> ", rows.Select(r => total(r) is double t ? F($"{t:0.00}") : "-")) + F($" ms (x{total(rows[^1]) / total(rows[0]):0.00})");
        return $"fused {Totals(r => r.Fused.Total)}; loop port {Totals(r => r.LoopPort?.Total)}";
    }

    /// <summary>The op floor of the G50 workload beside its fused total and the issue's two ratio targets.</summary>
    private static string OpFloorReport(OpFloor f, SizeResult r)
    {
        string Line(string what, double ms) => F($"  {what,-52} {ms,7:0.000} ms {ms / f.IouMs,5:0.0}x floor");
        return string.Join(Environment.NewLine,
            F($"what libtorch ops alone cost at G={f.GtsPerImage}, {f.ProposalsPerImage} proposals per image (one call each, same shapes as the stage):"),
            Line("IoU matrix [B, G, G+P] (the floor)", f.IouMs),
            Line("best gt and its index per candidate (max over G)", f.MaxOverGtsMs),
            Line("class log-probabilities [B, G+P, C+1] (log-softmax)", f.LogSoftmaxMs),
            Line("best foreground class and its index (max over C)", f.MaxOverClassesMs),
            Line("these four together", f.RequiredMs),
            Line(F($"fixed cost: the stage at 1 gt, 16 proposals per image ({f.TensorsPerStage} tensors per run)"), f.FixedCostMs),
            Line("the fused stage", r.Fused.Total),
            F($"  targets: 3x floor = {3 * f.IouMs:0.000} ms; 10x the loop port = {(r.LoopPort?.Total ?? double.NaN) / 10:0.000} ms"));
    }

    private static string Header() =>
        $"{"workload",-28} {"G",3} {"P/img",6} | {"assign",15} {"libra",15} {"score-hlr",17} {"isr-p",15} {"carl",13} {"total",17} {"speedup",7} | {"IoU floor",9} {"x floor",7} {"peak MiB",8}";

    private static string Row(SizeResult r)
    {
        string Pair(double fused, double? loop, int width) => F($"{fused,6:0.00} | {(loop is double l ? F($"{l:0.00}") : "-")}").PadLeft(width);
        var l = r.LoopPort;
        return F($"{r.Workload,-28} {r.GtsPerImage,3} {r.ProposalsPerImage,6} | {Pair(r.Fused.Assign, l?.Assign, 15)} {Pair(r.Fused.Libra, l?.Libra, 15)} ") +
               F($"{Pair(r.Fused.ScoreHlr, l?.ScoreHlr, 17)} {Pair(r.Fused.IsrP, l?.IsrP, 15)} {Pair(r.Fused.Carl, l?.Carl, 13)} {Pair(r.Fused.Total, l?.Total, 17)} ") +
               F($"{(r.Speedup is double s ? F($"{s:0.0}x") : "-"),7} | {r.IouFloorMs,9:0.000} {r.FloorRatio,6:0.0}x {r.PeakMemoryMiB,8:0}");
    }
}
