using System.Security.Cryptography;
using Pisa.Kernels.Pipeline;
using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>
/// Every output of the sampling stage's kernels, bit for bit, against fingerprints recorded before the stage was fused into
/// fewer operations (<c>Fingerprints/stage.txt</c>): padded batches (masked proposals, images with fewer or no gts), both
/// compat modes, both of Q2's calls, the Libra, random, Score-HLR and OHEM samplers, packing, ISR-N, ISR-P, CARL, the
/// two-stage and single-stage losses and their gradients. A change of any bit of any output fails with the output's name.
/// Record new fingerprints (only for an intended change of results) with <c>PISA_RECORD_FINGERPRINTS=1</c>.
/// </summary>
public class StageFingerprintTests
{
    private static readonly string File = Path.Combine(RepoPaths.Root, "tests", "Pisa.Kernels.Tests", "Fingerprints", "stage.txt");

    [SkippableFact]
    public void Every_stage_output_is_bit_identical_to_its_recorded_fingerprint()
    {
        string header = $"# libtorch CPU kernels: {CpuCapability()}";
        var actual = Cases().SelectMany(c => StageOutputs(c.Seed, c.Compat, c.FirstCall, c.Size).Select(o => $"{c.Name}/{o.Name} {Fingerprint(o.Value)}")).ToList();
        if (Environment.GetEnvironmentVariable("PISA_RECORD_FINGERPRINTS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(File)!);
            System.IO.File.WriteAllLines(File, [header, .. actual]);
            return;
        }
        var lines = System.IO.File.ReadAllLines(File);
        // exp, log-softmax and friends may round differently in libtorch's kernels for another instruction set.
        Skip.If(lines[0] != header, $"fingerprints recorded with '{lines[0]}', this machine runs '{header}'");
        var expected = lines[1..];
        Assert.Equal(expected.Length, actual.Count);
        var differing = expected.Zip(actual).Where(p => p.First != p.Second).Select(p => p.Second.Split(' ')[0]).ToList();
        Assert.True(differing.Count == 0, "outputs that changed: " + string.Join(", ", differing));
    }

    /// <summary>Images, gts per image, proposals per image, classes, samples per image, positive budget.</summary>
    private sealed record Size(int Images, int Gts, int Proposals, int Classes, int Samples, int PositiveBudget);

    private static readonly Size Small = new(3, 6, 260, 5, 64, 12);
    private static readonly Size Workload = new(2, 50, 2000, 80, 512, 128);

    private static IEnumerable<(string Name, int Seed, Compat Compat, bool FirstCall, Size Size)> Cases() =>
        (from seed in new[] { 3, 4, 7, 12 }
         from compat in new[] { Compat.Mmdet, Compat.Corrected }
         select ($"seed{seed}-{compat}", seed, compat, seed % 2 == 0, Small))
        .Concat(from compat in new[] { Compat.Mmdet, Compat.Corrected } select ($"g50-{compat}", 50, compat, false, Workload));

    /// <summary>The stage on one padded batch: every kernel's outputs, named.</summary>
    private static List<(string Name, Tensor Value)> StageOutputs(int seed, Compat compat, bool firstCall, Size size)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<(string, Tensor)>();
        void Add(string name, Tensor t) => outputs.Add((name, t.detach().clone()));
        var batch = RandomBatch.Create(seed, images: size.Images, maxGts: size.Gts, proposals: size.Proposals, numClasses: size.Classes);
        var proposalMask = batch.ProposalMask.clone();
        proposalMask[0, TensorIndex.Slice(size.Proposals - 30)] = false; // padding proposals in image 0
        long b = size.Images, classes = batch.NumClasses;
        var input = new TwoStageSampleInput(batch.Proposals, proposalMask, batch.Gts, batch.GtLabels, batch.GtMask,
            full([b, 2], 200L), batch.NumClasses);

        var candidates = TargetSteps.AssignCandidates(input, Assign.Thresholds.RcnnDefault, addGtAsProposals: true);
        long m = candidates.Boxes.shape[1];
        Add("assign.gtInds", candidates.Assigned.GtInds);
        Add("assign.maxOverlaps", candidates.Assigned.MaxOverlaps);
        Add("assign.labels", candidates.Assigned.Labels);
        var rpn = Assign.MaxIoU(batch.Gts, batch.Proposals, batch.GtLabels, batch.GtMask, proposalMask, Assign.Thresholds.RpnDefault with { GtMaxAssignAll = seed % 2 == 0 });
        Add("assign-rpn.gtInds", rpn.GtInds);
        Add("assign-rpn.maxOverlaps", rpn.MaxOverlaps);

        var gtInds = candidates.Assigned.GtInds;
        var generator = new Generator((ulong)seed);
        var positives = Sample.InstanceBalancedPositives(gtInds, size.PositiveBudget, compat, generator);
        Add("instance-balanced", positives);
        var budget = Sample.NegativeBudget(size.Samples, RankOps.Count(positives));
        Add("iou-balanced", Sample.IoUBalancedNegatives(gtInds, candidates.Assigned.MaxOverlaps, candidates.Mask, budget, new IoUBalancedSettings(-1, 0, 3), firstCall, compat, generator));
        Add("iou-balanced-floor", Sample.IoUBalancedNegatives(gtInds, candidates.Assigned.MaxOverlaps, candidates.Mask, budget, new IoUBalancedSettings(0.1, 0.5, 2), firstCall, compat, generator));
        Add("iou-balanced-one-bin", Sample.IoUBalancedNegatives(gtInds, candidates.Assigned.MaxOverlaps, candidates.Mask, budget, new IoUBalancedSettings(0, 0.25, 1), firstCall, compat, generator));
        Add("random-positives", Sample.RandomPositives(gtInds, size.PositiveBudget, generator));
        Add("random-negatives", Sample.RandomNegatives(gtInds, budget, generator));

        var logits = RandomBatch.Logits(seed, b, m, batch.NumClasses);
        var deltas = randn([b, m, 4 * classes], generator: new Generator((ulong)seed + 100)) * 0.5;
        var hlr = Sample.ScoreHlrNegatives(gtInds == 0, logits, deltas, candidates.Boxes, budget, new ScoreHlrSettings(0.05, 0.5), BoxCoder.Rcnn, compat, generator);
        Add("score-hlr.selected", hlr.Selected);
        Add("score-hlr.order", hlr.Order);
        Add("score-hlr.validCount", hlr.ValidCount);
        Add("score-hlr.expected", hlr.Expected);
        Add("score-hlr.backgroundLoss", hlr.BackgroundLoss);
        Add("score-hlr.hasNegatives", hlr.HasNegatives);
        var isrN = Reweight.IsrN(hlr, new ReweightSettings(0.5, 0));
        Add("isr-n", isrN);
        Add("ohem", Sample.HardestByLoss(gtInds >= 0, hlr.BackgroundLoss, budget));

        var sample = TargetSteps.PackSamples(input, candidates, positives, hlr.Selected, size.Samples, BoxCoder.Rcnn, compat, hlr.Order, isrN, hlr.HasNegatives);
        Add("pack.rois", sample.Rois);
        Add("pack.valid", sample.Valid);
        Add("pack.labels", sample.Labels);
        Add("pack.labelWeights", sample.LabelWeights);
        Add("pack.bboxTargets", sample.BboxTargets);
        Add("pack.bboxWeights", sample.BboxWeights);
        Add("pack.posGtIds", sample.PosGtIds);
        Add("pack.candidateIndex", sample.CandidateIndex);
        var plain = TargetSteps.PackSamples(input, candidates, positives, hlr.Selected, size.Samples, BoxCoder.Rcnn, compat);
        Add("pack-plain.labelWeights", plain.LabelWeights);
        Add("pack-plain.candidateIndex", plain.CandidateIndex);

        var rows = (sample.CandidateIndex.view(b, -1) + arange(b).unsqueeze(-1) * m).flatten();
        var cls = logits.view(-1, classes + 1).index_select(0, rows).requires_grad_();
        var pred = deltas.view(-1, 4 * classes).index_select(0, rows).requires_grad_();
        var rois = sample.Rois[TensorIndex.Colon, TensorIndex.Slice(1)];
        Add("isr-p", Reweight.IsrP(cls, pred, rois, sample.Labels, sample.LabelWeights, sample.BboxTargets, sample.PosGtIds, classes, new ReweightSettings(2, 0), BoxCoder.Rcnn, compat));
        Add("isr-p-biased", Reweight.IsrP(cls, pred, rois, sample.Labels, sample.LabelWeights, sample.BboxTargets, sample.PosGtIds, classes, new ReweightSettings(1.5, 0.3), BoxCoder.Rcnn, compat));
        Add("carl", Reweight.Carl(cls, sample.Labels, pred, sample.BboxTargets, classes, new ReweightSettings(1, 0.2), false, BoxLoss.SmoothL1Default, sample.SampleCount()));
        var losses = LossSteps.TwoStageLoss(sample, cls, pred, BoxLoss.SmoothL1Default, new ReweightSettings(2, 0), new ReweightSettings(1, 0.2), BoxCoder.Rcnn, compat);
        foreach (var (name, loss) in losses.OrderBy(l => l.Key)) Add("two-stage." + name, loss);
        var (clsGrad, predGrad) = Gradients(losses.Values, cls, pred);
        Add("two-stage.cls-grad", clsGrad);
        Add("two-stage.pred-grad", predGrad);

        var anchorMask = proposalMask;
        var sigmoidLogits = logits[TensorIndex.Colon, TensorIndex.Slice(size.Gts), TensorIndex.Slice(0, classes)].contiguous().requires_grad_();
        var boxDeltas = deltas[TensorIndex.Colon, TensorIndex.Slice(size.Gts), TensorIndex.Slice(0, 4)].contiguous().requires_grad_();
        var single = LossSteps.SingleStageLoss(new SingleStageInput(batch.Proposals, anchorMask, batch.Gts, batch.GtLabels, batch.GtMask, batch.NumClasses),
            sigmoidLogits, boxDeltas, new Assign.Thresholds(0.5, 0.4, 0, true), new FocalSettings(), BoxLoss.SmoothL1Default,
            new ReweightSettings(2, 0), new ReweightSettings(1, 0.2), BoxCoder.Unit, compat);
        foreach (var (name, loss) in single.OrderBy(l => l.Key)) Add("single-stage." + name, loss);
        var (sigmoidGrad, boxGrad) = Gradients(single.Values, sigmoidLogits, boxDeltas);
        Add("single-stage.cls-grad", sigmoidGrad);
        Add("single-stage.pred-grad", boxGrad);
        foreach (var (_, t) in outputs) t.MoveToOuterDisposeScope();
        return outputs;
    }

    private static (Tensor, Tensor) Gradients(IEnumerable<Tensor> losses, Tensor a, Tensor b)
    {
        var total = losses.Aggregate((x, y) => x + y);
        var grads = autograd.grad([total], [a, b]);
        return (grads[0], grads[1]);
    }

    /// <summary>The instruction set libtorch's CPU kernels dispatch to here (ATen's CPU capability).</summary>
    private static string CpuCapability()
    {
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.X86.Avx512BW.IsSupported
            && System.Runtime.Intrinsics.X86.Avx512DQ.IsSupported && System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported) return "avx512";
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) return "avx2";
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
    }

    /// <summary>SHA-256 of the tensor's dtype, shape and bytes.</summary>
    private static string Fingerprint(Tensor t)
    {
        var bytes = t.contiguous().cpu().bytes.ToArray();
        string header = $"{t.dtype}[{string.Join(",", t.shape)}]";
        return header + ":" + Convert.ToHexString(SHA256.HashData(bytes))[..16];
    }
}
