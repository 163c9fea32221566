using System.Diagnostics;
using Pisa.Kernels;
using Pisa.Kernels.Pipeline;
using static TorchSharp.torch;
using Pisa.Kernels.Reference;
using Port = Pisa.Kernels.Reference.LoopPort;

namespace Pisa.Cli.Bench;

/// <summary>Median milliseconds of each stage of WORKLOAD.md's sampling / ranking / reweighting step.</summary>
public sealed record StageTimes(double Assign, double Libra, double ScoreHlr, double IsrP, double Carl, double Total);

/// <summary>The tensor operations each stage of one fused run dispatches (<see cref="OpCount"/>).</summary>
public sealed record StageOps(long Assign, long Libra, long ScoreHlr, long IsrP, long Carl, long Total);

/// <summary>
/// The operations of the generated two-stage PISA pipeline's share of one training step (<c>Sample</c> without the head
/// probe's own ops, then <c>Loss</c> on the head's outputs), the way pisa-faster-rcnn calls the kernels.
/// </summary>
public sealed record StepOps(long GtsPerImage, long Sample, long Loss)
{
    public long Total => Sample + Loss;
}

/// <summary>One measured size: fused times, loop-port times (when run), the IoU floor and the peak memory.</summary>
public sealed record SizeResult(string Workload, long GtsPerImage, long ProposalsPerImage, StageTimes Fused, StageTimes? LoopPort,
    double IouFloorMs, double PeakMemoryMiB, StageOps Ops)
{
    /// <summary>Loop port total / fused total.</summary>
    public double? Speedup => LoopPort is null ? null : LoopPort.Total / Fused.Total;

    /// <summary>Fused total / one IoU matrix of the same size.</summary>
    public double FloorRatio => Fused.Total / IouFloorMs;
}

/// <summary>
/// What the stage costs below which no arrangement of libtorch ops can go, on one size: the ops every sync-free batched
/// implementation must issue at full size (the IoU matrix, the best gt and its index per candidate, the class scores of
/// every candidate and the best foreground class with its index), and the stage's fixed cost (its run on a tiny input of
/// the same batch layout, where only op dispatch and the sampled batch's 2 x 512 rows remain).
/// </summary>
/// <param name="TensorsPerStage">tensors the fused stage creates per run (about one per libtorch op).</param>
public sealed record OpFloor(long GtsPerImage, long ProposalsPerImage, double IouMs, double MaxOverGtsMs, double LogSoftmaxMs,
    double MaxOverClassesMs, long TensorsPerStage, double FixedCostMs)
{
    /// <summary>The four full-size ops together.</summary>
    public double RequiredMs => IouMs + MaxOverGtsMs + LogSoftmaxMs + MaxOverClassesMs;
}

/// <summary>
/// <c>pisa bench kernels</c>: times the fused kernels and the loop port side by side on WORKLOAD.md's stage (2 images,
/// 512 samples at 0.25, mmdet mode), the growth with the number of candidates, the ratio to the IoU-matrix floor, and
/// the peak resident memory of each size.
/// </summary>
public static class KernelBench
{
    private const int SamplesPerImage = 512;
    private const long PositiveBudget = 128; // int(512 * 0.25)
    private static readonly BoxCoder Coder = BoxCoder.Rcnn;

    /// <summary>Measures one workload.</summary>
    /// <param name="repeats">timed runs per stage (after the warm-up); the median is reported.</param>
    /// <param name="withLoopPort">whether to time the loop port too (it is slow at large sizes).</param>
    public static SizeResult Measure(Workload w, int repeats, bool withLoopPort, bool cpuClock)
    {
        ResetPeakMemory();
        using var scope = NewDisposeScope();
        StageTimes Fused() => FusedStage(w, new Generator(0), new StageClock(cpuClock)).Times;
        StageTimes Loop() => LoopStage(w, new Random(0), new StageClock(cpuClock));
        StageTimes fused;
        StageTimes? loop = null;
        if (withLoopPort)
        {
            // Alternating runs, so a change of the machine's state (another job, frequency) touches both sides alike.
            WarmUp(() => Fused());
            WarmUp(() => Loop());
            var runs = Enumerable.Range(0, repeats).Select(_ => (Fused: Fused(), Loop: Loop())).ToList();
            (fused, loop) = (MedianTimes(runs.Select(r => r.Fused).ToList()), MedianTimes(runs.Select(r => r.Loop).ToList()));
        }
        else
        {
            fused = Median(repeats, Fused);
        }
        var candidates = cat([w.Gts, w.Proposals], 1);
        double floor = MedianOf(repeats * 3, cpuClock, () => { using var _ = Boxes.Overlaps(w.Gts, candidates); });
        return new SizeResult(w.Name, w.GtsPerImage, w.ProposalsPerImage, fused, loop, floor, PeakMemoryMiB(), CountOps(w));
    }

    /// <summary>The operations each stage of one fused run on <paramref name="w"/> dispatches, in a steady state: after one
    /// run that made the cached constants (<c>Constants</c>: a coder's stds, index ranges), as every step after a run's first.</summary>
    public static StageOps CountOps(Workload w)
    {
        using var scope = NewDisposeScope();
        FusedStage(w, new Generator(0), new StageClock(cpu: false));
        return FusedStage(w, new Generator(0), new StageClock(cpu: false)).Ops;
    }

    /// <summary>The operations of <see cref="StepOps"/> on <paramref name="w"/>: the pipeline's <c>Sample</c> and <c>Loss</c>, the
    /// stand-in head's lookups not counted.</summary>
    public static StepOps CountStepOps(Workload w)
    {
        using var scope = NewDisposeScope();
        var pipeline = new ExamplePisaTwoStagePipeline();
        var head = new WorkloadHead(w);
        var input = Input(w);
        pipeline.Loss(pipeline.Sample(input, head, new Generator(0)), w.ClsScore[.., ..512].reshape(-1, w.ClsScore.shape[2]),
            w.BboxPred[.., ..512].reshape(-1, w.BboxPred.shape[2])); // the steady state, as in CountOps
        head.Ops = 0;
        TwoStageSample sample = null!;
        long sampleOps = OpCount.Of(() => sample = pipeline.Sample(input, head, new Generator(0))) - head.Ops;
        var (cls, pred) = head.Outputs(sample.CandidateIndex);
        long lossOps = OpCount.Of(() => pipeline.Loss(sample, cls, pred));
        return new StepOps(w.GtsPerImage, sampleOps, lossOps);
    }

    /// <summary>The stage's input for a workload: every proposal and gt slot real.</summary>
    private static TwoStageSampleInput Input(Workload w)
    {
        long b = w.Images;
        return new TwoStageSampleInput(w.Proposals, ones(b, w.ProposalsPerImage, ScalarType.Bool), w.Gts, w.GtLabels,
            ones(b, w.GtsPerImage, ScalarType.Bool), tensor(new[] { Workload.Height, Workload.Width }).expand(b, 2), w.NumClasses);
    }

    /// <summary>A box head that looks the workload's outputs up instead of computing them; counts the ops its lookups take.</summary>
    private sealed class WorkloadHead(Workload w) : IDetectorHeadProbe
    {
        public long Ops { get; set; }

        public (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois)
        {
            (Tensor, Tensor) outputs = default;
            Ops += OpCount.Of(() => outputs = (w.ClsScore.reshape(-1, w.ClsScore.shape[2]), w.BboxPred.reshape(-1, w.BboxPred.shape[2])));
            return outputs;
        }

        /// <summary>The outputs on the sampled rows, <c>[B*S, ...]</c>.</summary>
        public (Tensor ClsScore, Tensor BboxPred) Outputs(Tensor candidateIndex)
        {
            long b = w.Images;
            var rows = (candidateIndex.view(b, -1) + arange(b).unsqueeze(-1) * w.ClsScore.shape[1]).flatten();
            return (w.ClsScore.view(-1, w.ClsScore.shape[2]).index_select(0, rows), w.BboxPred.view(-1, w.BboxPred.shape[2]).index_select(0, rows));
        }
    }

    /// <summary>
    /// The <see cref="OpFloor"/> of a workload: each required op timed alone (median of <paramref name="repeats"/>), the
    /// tensors one fused run creates, and the fused total on a 1-gt, 16-proposal instance of the same layout.
    /// </summary>
    public static OpFloor MeasureOpFloor(Workload w, int repeats, bool cpuClock)
    {
        using var scope = NewDisposeScope();
        var candidates = cat([w.Gts, w.Proposals], 1);
        var overlaps = Boxes.Overlaps(w.Gts, candidates);
        var logProbabilities = w.ClsScore.log_softmax(-1);
        var foreground = logProbabilities[TensorIndex.Ellipsis, TensorIndex.Slice(0, w.NumClasses)];
        double Op(Func<Tensor[]> op) => MedianOf(repeats, cpuClock, () => { foreach (var t in op()) t.Dispose(); });
        double iou = Op(() => [Boxes.Overlaps(w.Gts, candidates)]);
        double maxOverGts = Op(() => { var (values, indexes) = overlaps.max(1); return [values, indexes]; });
        double logSoftmax = Op(() => [w.ClsScore.log_softmax(-1)]);
        double maxOverClasses = Op(() => { var (values, indexes) = foreground.max(-1); return [values, indexes]; });

        long tensors = CountOps(w).Total;

        var tiny = Workload.Generate(seed: 1, images: (int)w.Images, gtsPerImage: 1, proposalsPerImage: 16, numClasses: (int)w.NumClasses);
        double fixedCost = Median(repeats, () => FusedStage(tiny, new Generator(0), new StageClock(cpuClock)).Times).Total;
        return new OpFloor(w.GtsPerImage, w.ProposalsPerImage, iou, maxOverGts, logSoftmax, maxOverClasses, tensors, fixedCost);
    }

    /// <summary>The fused step: batched kernels, no loop over images, gts, classes or groups; its times and its operations.</summary>
    private static (StageTimes Times, StageOps Ops) FusedStage(Workload w, Generator generator, StageClock clock)
    {
        using var scope = NewDisposeScope();
        long b = w.Images;
        var input = Input(w);
        var meter = new StageMeter(clock);

        var candidates = TargetSteps.AssignCandidates(input, new Assign.Thresholds(0.5, 0.5, 0.5, false), addGtAsProposals: true);
        var gtInds = candidates.Assigned.GtInds;
        var assign = meter.Lap();

        var positives = Sample.InstanceBalancedPositives(gtInds, PositiveBudget, Compat.Mmdet, generator);
        var negativeBudget = Sample.NegativeBudget(SamplesPerImage, RankOps.Count(positives));
        _ = Sample.IoUBalancedNegatives(gtInds, candidates.Assigned.MaxOverlaps, candidates.Mask, negativeBudget, new IoUBalancedSettings(-1, 0, 3),
            firstCall: false, Compat.Mmdet, generator);
        var libra = meter.Lap();

        var hlr = Sample.ScoreHlrNegatives(gtInds == 0, w.ClsScore, w.BboxPred, candidates.Boxes, negativeBudget, new ScoreHlrSettings(0.05, 0.5),
            Coder, Compat.Mmdet, generator);
        var hlrWeights = Reweight.IsrN(hlr, new ReweightSettings(0.5, 0));
        var scoreHlr = meter.Lap();

        var sample = TargetSteps.PackSamples(input, candidates, positives, hlr.Selected, SamplesPerImage, Coder, Compat.Mmdet, hlr.Order, hlrWeights, hlr.HasNegatives);
        var packed = meter.Lap();
        // Stand-in for the box head on the sampled RoIs: look up the workload's outputs (data preparation, neither timed nor counted).
        var (cls, pred) = new WorkloadHead(w).Outputs(sample.CandidateIndex);
        meter.Lap();
        _ = Reweight.IsrP(cls, pred, sample.Rois[.., 1..], sample.Labels, sample.LabelWeights, sample.BboxTargets, sample.PosGtIds, w.NumClasses,
            new ReweightSettings(2, 0), Coder, Compat.Mmdet);
        var isrP = meter.Lap();

        _ = Reweight.Carl(cls, sample.Labels, pred, sample.BboxTargets, w.NumClasses, new ReweightSettings(1, 0.2), false, BoxLoss.SmoothL1Default, sample.SampleCount());
        var carl = meter.Lap();
        // ISR-P's share includes packing the sampled batch (targets, gt ids): the reference builds them in the same place.
        var stages = new[] { assign, libra, scoreHlr, packed + isrP, carl };
        return (new StageTimes(stages[0].Ms, stages[1].Ms, stages[2].Ms, stages[3].Ms, stages[4].Ms, stages.Sum(x => x.Ms)),
            new StageOps(stages[0].Ops, stages[1].Ops, stages[2].Ops, stages[3].Ops, stages[4].Ops, stages.Sum(x => x.Ops)));
    }

    /// <summary>The loop port: per image, per gt, per class, per group, as the reference is shaped.</summary>
    private static StageTimes LoopStage(Workload w, Random random, StageClock clock)
    {
        using var scope = NewDisposeScope();
        long b = w.Images;
        var thresholds = new Assign.Thresholds(0.5, 0.5, 0.5, false);
        double assign = 0, libra = 0, scoreHlr = 0;
        var rows = new List<(int Image, long Candidate, long Label, long LocalGt, long GtId, float Weight)>();
        long offset = 0;
        for (int i = 0; i < b; i++)
        {
            var candidates = cat([w.Gts[i], w.Proposals[i]], 0);
            double t0 = clock.Ms;
            var (gtInds, maxOverlaps, labels) = Port.Assign(candidates, w.Gts[i], w.GtLabels[i], thresholds);
            double t1 = clock.Ms;
            var positives = Port.InstanceBalancedPositives(gtInds, PositiveBudget, random);
            _ = Port.IoUBalancedNegatives(gtInds, maxOverlaps, SamplesPerImage - positives.Length, new IoUBalancedSettings(-1, 0, 3), firstCall: false, random);
            double t2 = clock.Ms;
            var negatives = Enumerable.Range(0, gtInds.Length).Where(k => gtInds[k] == 0).Select(k => (long)k).ToArray();
            var negIndex = tensor(negatives);
            var (selected, weights) = Port.ScoreHlrNegatives(w.ClsScore[i].index_select(0, negIndex), w.BboxPred[i].index_select(0, negIndex),
                candidates.index_select(0, negIndex), SamplesPerImage - positives.Length, new ScoreHlrSettings(0.05, 0.5), new ReweightSettings(0.5, 0), Coder, random);
            double t3 = clock.Ms;
            (assign, libra, scoreHlr) = (assign + t1 - t0, libra + t2 - t1, scoreHlr + t3 - t2);
            rows.AddRange(positives.Select(p => (i, p, labels[p], gtInds[p] - 1, gtInds[p] - 1 + offset, 1f)));
            rows.AddRange(selected.Select((s, k) => (i, negatives[s], (long)w.NumClasses, 0L, -1L, weights[k])));
            offset = positives.Length > 0 ? positives.Max(p => gtInds[p]) : offset; // quirk Q3's offset
        }
        // Stand-in for the box head on the sampled RoIs, and the targets: data preparation, not timed.
        var image = tensor(rows.Select(r => (long)r.Image).ToArray());
        var candidate = tensor(rows.Select(r => r.Candidate).ToArray());
        var allCandidates = cat([w.Gts, w.Proposals], 1);
        var rois = allCandidates[image, candidate];
        var cls = w.ClsScore[image, candidate];
        var pred = w.BboxPred[image, candidate];
        var labelArray = rows.Select(r => r.Label).ToArray();
        var gtOfRow = w.Gts[image, tensor(rows.Select(r => r.LocalGt).ToArray())];
        var targets = Coder.Encode(rois, gtOfRow) * tensor(labelArray.Select(l => l < w.NumClasses ? 1f : 0f).ToArray()).unsqueeze(-1);
        double t4 = clock.Ms;
        _ = Port.IsrP(cls, pred, rois, labelArray, rows.Select(r => r.Weight).ToArray(), targets, rows.Select(r => r.GtId).ToArray(), w.NumClasses,
            new ReweightSettings(2, 0), Coder);
        double t5 = clock.Ms;
        _ = Port.Carl(cls, labelArray, pred, targets, w.NumClasses, new ReweightSettings(1, 0.2));
        double t6 = clock.Ms;
        return new StageTimes(assign, libra, scoreHlr, t5 - t4, t6 - t5, assign + libra + scoreHlr + (t6 - t4));
    }

    private static StageTimes Median(int repeats, Func<StageTimes> run)
    {
        WarmUp(() => run());
        return MedianTimes(Enumerable.Range(0, repeats).Select(_ => run()).ToList());
    }

    /// <summary>The median of each stage over the runs.</summary>
    private static StageTimes MedianTimes(List<StageTimes> runs)
    {
        double M(Func<StageTimes, double> f) => MedianValue(runs.Select(f));
        return new StageTimes(M(r => r.Assign), M(r => r.Libra), M(r => r.ScoreHlr), M(r => r.IsrP), M(r => r.Carl), M(r => r.Total));
    }

    private static double MedianOf(int repeats, bool cpuClock, Action run)
    {
        WarmUp(run);
        return MedianValue(Enumerable.Range(0, repeats).Select(_ =>
        {
            var clock = new StageClock(cpuClock);
            run();
            return clock.Ms;
        }));
    }

    /// <summary>
    /// Runs <paramref name="run"/> until the JIT has promoted its managed code (loops, LINQ, the NMS walk) from tier 0 to
    /// optimised code: 30 calls, or 2 s at the largest sizes. One warm-up call would time tier-0 code for the loop port.
    /// </summary>
    private static void WarmUp(Action run)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 30 && clock.Elapsed.TotalSeconds < 2; i++) run();
        Thread.Sleep(150); // tier-1 code is compiled in the background after a short delay
        run();
    }

    private static double MedianValue(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Resets the kernel's peak-RSS counter (Linux: writing 5 to clear_refs), so each size reports its own peak.</summary>
    private static void ResetPeakMemory()
    {
        // Finalisers release what TorchSharp's implicit scalars hold, and malloc_trim hands glibc's free heap back, so
        // the peak of a size is its own and not what earlier sizes left in the allocator.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        NativeHeap.Trim();
        try { if (OperatingSystem.IsLinux()) File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Peak resident memory of the process since the last reset, in MiB.</summary>
    private static double PeakMemoryMiB()
    {
        if (OperatingSystem.IsLinux())
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
            if (line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out long kib)) return kib / 1024.0;
        }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
