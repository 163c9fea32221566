using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>Invariants that hold on any seeded random batch.</summary>
public class PropertyTests
{
    /// <summary>Same shape and equal elements.</summary>
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().item<bool>();

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5 };

    /// <summary>Random flat samples: labels in 0..C (C = background), gt ids per positive, logits, deltas, rois.</summary>
    private static (Tensor Cls, Tensor Pred, Tensor Rois, Tensor Labels, Tensor Weights, Tensor Targets, Tensor GtIds) Samples(int seed, int n = 80, int c = 4)
    {
        var g = new Generator((ulong)seed);
        var labels = randint(0, c + 1, [n], generator: g);
        var gtIds = where(labels < c, randint(0, 6, [n], generator: g), full_like(labels, -1L));
        var xy = rand([n, 2], generator: g) * 100;
        var rois = cat([xy, xy + 10 + rand([n, 2], generator: g) * 50], 1);
        return (randn([n, c + 1], generator: g) * 2, randn([n, 4 * c], generator: g) * 0.5, rois, labels,
            rand([n], generator: g) * 0.5 + 0.5, randn([n, 4], generator: g) * 0.5, gtIds);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Isr_p_keeps_the_positives_classification_loss_sum_and_leaves_negatives_alone(int seed)
    {
        var (cls, pred, rois, labels, weights, targets, gtIds) = Samples(seed);
        foreach (var compat in new[] { Compat.Mmdet, Compat.Corrected })
        {
            var updated = Reweight.IsrP(cls, pred, rois, labels, weights, targets, gtIds, 4, ReweightSettings.IsrPDefault, BoxCoder.Rcnn, compat);
            var positive = labels < 4;
            var loss = Loss.CrossEntropy(cls, labels);
            double before = (loss * weights)[positive].sum().item<float>(), after = (loss * updated)[positive].sum().item<float>();
            Assert.Equal(before, after, before * 1e-5);
            Assert.True(Same(updated[~positive], weights[~positive]));
            Assert.False(updated.isnan().any().item<bool>() || updated.isinf().any().item<bool>());
        }
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Isr_p_with_a_sigmoid_head_keeps_the_focal_loss_sum(int seed)
    {
        var (cls, pred, rois, labels, weights, targets, gtIds) = Samples(seed);
        var sigmoidLogits = cls[.., ..4];
        var updated = Reweight.IsrP(sigmoidLogits, pred, rois, labels, weights, targets, gtIds, 4, ReweightSettings.IsrPDefault, BoxCoder.Rcnn, Compat.Mmdet, sigmoid: true);
        var positive = labels < 4;
        var loss = Loss.SigmoidFocal(sigmoidLogits, labels).sum(-1);
        double before = (loss * weights)[positive].sum().item<float>(), after = (loss * updated)[positive].sum().item<float>();
        Assert.Equal(before, after, before * 1e-5);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Carl_weights_sum_to_the_number_of_positives_and_the_loss_is_finite(int seed)
    {
        var (cls, pred, _, labels, _, targets, _) = Samples(seed);
        var c = Reweight.CarlWeights(cls, labels, 4, ReweightSettings.CarlDefault, sigmoid: false);
        long positives = (labels < 4).sum().item<long>();
        Assert.Equal(positives, c.sum().item<float>(), 1e-3);
        Assert.Equal(0, c[labels == 4].abs().sum().item<float>());
        var loss = Reweight.Carl(cls, labels, pred, targets, 4, ReweightSettings.CarlDefault, false, BoxLoss.SmoothL1Default);
        Assert.True(float.IsFinite(loss.item<float>()));
    }

    [Fact]
    public void Carl_without_positives_is_a_zero_that_stays_connected_to_the_graph()
    {
        var cls = randn([3, 5], generator: new Generator(7)).requires_grad_();
        var loss = Reweight.Carl(cls, full(3, 4L), zeros(3, 16), zeros(3, 4), 4, ReweightSettings.CarlDefault, false, BoxLoss.SmoothL1Default);
        Assert.Equal(0f, loss.item<float>());
        loss.backward();
        Assert.NotNull(cls.grad);
        Assert.Equal(0f, cls.grad!.abs().sum().item<float>());
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Iou_hlr_ranks_are_a_permutation_inside_every_class(int seed)
    {
        var g = new Generator((ulong)seed);
        var labels = randint(0, 3, [50], generator: g);
        var gtIds = randint(0, 8, [50], generator: g);
        // IoUs on a coarse grid so ties happen: the ranks must still be a permutation.
        var ious = (rand([50], generator: g) * 10).floor() / 10;
        foreach (var compat in new[] { Compat.Mmdet, Compat.Corrected })
        {
            var ranks = Hlr.IoU(ious, gtIds, labels, ones(50, ScalarType.Bool), 3, compat);
            for (long c = 0; c < 3; c++)
            {
                var inClass = ranks.Rank[labels == c].sort().Values.data<long>().ToArray();
                Assert.Equal(Enumerable.Range(0, inClass.Length).Select(i => (long)i), inClass);
            }
            Assert.Equal((labels.bincount(null).max()).item<long>(), ranks.MaxPerClass.item<long>());
        }
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Samplers_respect_every_budget_and_only_pick_what_they_may(int seed)
    {
        var batch = RandomBatch.Create(seed);
        var (candidates, mask) = Sample.WithGtsPrepended(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtMask);
        var assigned = Kernels.Assign.MaxIoU(batch.Gts, candidates, batch.GtLabels, batch.GtMask, mask, Kernels.Assign.Thresholds.RcnnDefault);
        var positives = assigned.GtInds > 0;
        var negatives = assigned.GtInds == 0;
        var posCount = RankOps.Count(positives);
        const int num = 32;
        long posBudget = Sample.PositiveBudget(num, 0.25);
        var gen = new Generator((ulong)seed);

        foreach (var compat in new[] { Compat.Mmdet, Compat.Corrected })
        {
            var ib = Sample.InstanceBalancedPositives(assigned.GtInds, posBudget, compat, gen);
            Assert.True((ib & ~positives).sum().item<long>() == 0);
            Assert.True((RankOps.Count(ib) <= posBudget).all().item<bool>());
            if (compat == Compat.Corrected)
                Assert.True(Same(RankOps.Count(ib), posCount.clamp_max(posBudget)));

            var negBudget = Sample.NegativeBudget(num, RankOps.Count(ib));
            var iouBalanced = Sample.IoUBalancedNegatives(assigned.GtInds, assigned.MaxOverlaps, mask, negBudget, new IoUBalancedSettings(), seed % 2 == 0, compat, gen);
            Assert.True((iouBalanced & ~negatives).sum().item<long>() == 0);
            Assert.True(Same(RankOps.Count(iouBalanced), minimum(RankOps.Count(negatives), negBudget)));
        }

        var random = Sample.RandomPositives(assigned.GtInds, posBudget, gen);
        Assert.True(Same(RankOps.Count(random), posCount.clamp_max(posBudget)));
        var capped = Sample.NegativeBudget(num, RankOps.Count(random), negPosUb: 3);
        Assert.True((capped <= 3 * RankOps.Count(random).clamp_min(1)).all().item<bool>());
        var randomNeg = Sample.RandomNegatives(assigned.GtInds, capped, gen);
        Assert.True(Same(RankOps.Count(randomNeg), minimum(RankOps.Count(negatives), capped)));
        Assert.True((randomNeg & ~negatives).sum().item<long>() == 0);

        var logits = RandomBatch.Logits(seed, candidates.shape[0], candidates.shape[1], batch.NumClasses);
        var lossPerCandidate = Loss.CrossEntropy(logits, full_like(assigned.GtInds, batch.NumClasses));
        var ohem = Sample.HardestByLoss(negatives, lossPerCandidate, capped);
        Assert.True(Same(RankOps.Count(ohem), minimum(RankOps.Count(negatives), capped)));
        // OHEM keeps the hardest: no unchosen negative has a higher loss than a chosen one.
        for (int b = 0; b < candidates.shape[0]; b++)
        {
            var chosen = lossPerCandidate[b][ohem[b]];
            var left = lossPerCandidate[b][negatives[b] & ~ohem[b]];
            if (chosen.numel() > 0 && left.numel() > 0) Assert.True(chosen.min().item<float>() >= left.max().item<float>());
        }
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Score_hlr_keeps_the_chosen_negatives_loss_sum_and_orders_them(int seed)
    {
        var batch = RandomBatch.Create(seed, proposals: 150);
        var (candidates, mask) = Sample.WithGtsPrepended(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtMask);
        var assigned = Kernels.Assign.MaxIoU(batch.Gts, candidates, batch.GtLabels, batch.GtMask, mask, Kernels.Assign.Thresholds.RcnnDefault);
        var negatives = assigned.GtInds == 0;
        long b = candidates.shape[0], n = candidates.shape[1];
        var logits = RandomBatch.Logits(seed, b, n, batch.NumClasses);
        var deltas = randn([b, n, 4 * batch.NumClasses], generator: new Generator((ulong)seed)) * 0.2;
        var budget = full(b, 40L);
        var sample = Sample.ScoreHlrNegatives(negatives, logits, deltas, candidates, budget, new ScoreHlrSettings(ScoreThr: 0.3), BoxCoder.Rcnn, Compat.Mmdet, new Generator(3));

        var weights = Reweight.IsrN(sample, ReweightSettings.IsrNDefault);

        Assert.True((sample.Selected & ~negatives).sum().item<long>() == 0);
        Assert.True(Same(RankOps.Count(sample.Selected), minimum(RankOps.Count(negatives), budget)));
        var backgroundLoss = -logits.log_softmax(-1)[.., .., batch.NumClasses];
        for (int i = 0; i < b; i++)
        {
            var chosen = sample.Selected[i];
            var order = sample.Order[i][chosen].sort().Values.data<long>().ToArray();
            Assert.Equal(Enumerable.Range(0, order.Length).Select(k => (long)k), order);
            double plain = backgroundLoss[i][chosen].sum().item<float>(), weighted = (backgroundLoss[i] * weights[i])[chosen].sum().item<float>();
            Assert.Equal(plain, weighted, Math.Max(1e-6, plain * 1e-5));
        }
        Assert.False(weights.isnan().any().item<bool>() || weights.isinf().any().item<bool>());
    }

    [Fact]
    public void The_same_seed_draws_the_same_sample()
    {
        var batch = RandomBatch.Create(11);
        var (candidates, mask) = Sample.WithGtsPrepended(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtMask);
        var assigned = Kernels.Assign.MaxIoU(batch.Gts, candidates, batch.GtLabels, batch.GtMask, mask, Kernels.Assign.Thresholds.RcnnDefault);
        Tensor Draw(ulong seed) => Sample.IoUBalancedNegatives(assigned.GtInds, assigned.MaxOverlaps, mask, full(3, 20L), new IoUBalancedSettings(), true, Compat.Mmdet, new Generator(seed));
        Assert.True(Same(Draw(5), Draw(5)));
        Assert.False(Same(Draw(5), Draw(6)));
    }

    [Fact]
    public void A_batch_without_candidate_slots_assigns_nothing_with_or_without_low_quality_matching()
    {
        var gts = tensor(new float[] { 0, 0, 10, 10 }).view(1, 1, 4);
        foreach (var t in new[] { Kernels.Assign.Thresholds.RcnnDefault, Kernels.Assign.Thresholds.RpnDefault })
        {
            var assigned = Kernels.Assign.MaxIoU(gts, zeros(1, 0, 4), zeros(1, 1, ScalarType.Int64), ones(1, 1, ScalarType.Bool), zeros(1, 0, ScalarType.Bool), t);
            Assert.Equal([1L, 0L], assigned.GtInds.shape);
            Assert.Equal([1L, 0L], assigned.MaxOverlaps.shape);
        }
    }
}
