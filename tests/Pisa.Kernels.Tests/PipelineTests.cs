using Pisa.Kernels.Pipeline;
using Pisa.Kernels.Reference;
using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>The example pipeline composes the kernels into a sync-free step with the contract's shapes and semantics.</summary>
public class PipelineTests
{
    /// <summary>A stand-in box head: logits and deltas are fixed functions of the roi coordinates.</summary>
    private sealed class LinearProbe(int numClasses) : IDetectorHeadProbe
    {
        private readonly Tensor _cls = randn([4, numClasses + 1], generator: new Generator(9)) * 0.05;
        private readonly Tensor _box = randn([4, 4 * numClasses], generator: new Generator(10)) * 0.001;

        public (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois) =>
            (rois[.., 1..].matmul(_cls), rois[.., 1..].matmul(_box));
    }

    private static TwoStageSampleInput Input(RandomBatch batch) =>
        new(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtLabels, batch.GtMask, tensor(new long[] { 200, 200, 200, 200, 200, 200 }, [3, 2]), batch.NumClasses);

    [Fact]
    public void The_example_pipeline_samples_512_slots_per_image_and_returns_finite_losses_with_gradients()
    {
        var batch = RandomBatch.Create(41, proposals: 700);
        var pipeline = new ExamplePisaTwoStagePipeline();
        var probe = new LinearProbe(batch.NumClasses);
        var sample = pipeline.Sample(Input(batch), probe, new Generator(1));

        Assert.Equal(new long[] { 3 * 512, 5 }, sample.Rois.shape);
        var valid = sample.Valid.view(3, 512);
        var positive = (sample.Labels < batch.NumClasses).view(3, 512);
        Assert.True(((positive & ~valid).sum().item<long>()) == 0);
        Assert.True((positive.sum(1) <= 128).all().item<bool>());
        // Each image fills min(#pos, 128) positives and min(#neg, 512 - that) negatives; the other slots are padding.
        var assigned = TargetSteps.AssignCandidates(Input(batch), Kernels.Assign.Thresholds.RcnnDefault, true).Assigned;
        var positives = RankOps.Count(assigned.GtInds > 0).clamp_max(128);
        var expected = positives + minimum(RankOps.Count(assigned.GtInds == 0), 512 - positives);
        Assert.True((valid.sum(1) == expected).all().item<bool>());
        Assert.True((positive.sum(1) == positives).all().item<bool>());
        // Positives come first in each image's slots.
        Assert.True((positive == (arange(512) < positives.unsqueeze(-1))).all().item<bool>());
        Assert.True((sample.BboxWeights.sum(1) == (sample.Labels < batch.NumClasses).to(ScalarType.Float32) * 4).all().item<bool>());

        var cls = randn([3 * 512, batch.NumClasses + 1], generator: new Generator(3)).requires_grad_();
        var pred = randn([3 * 512, 4 * batch.NumClasses], generator: new Generator(4)).mul(0.1).requires_grad_();
        var losses = pipeline.Loss(sample, cls, pred);
        Assert.Equal(new[] { "loss_bbox", "loss_carl", "loss_cls" }, losses.Keys.Order());
        var total = losses.Values.Aggregate((a, b) => a + b);
        Assert.True(float.IsFinite(total.item<float>()));
        total.backward();
        Assert.True(cls.grad!.isfinite().all().item<bool>() && pred.grad!.isfinite().all().item<bool>());
    }

    [Fact]
    public void Q4_mmdet_applies_negative_weights_only_if_the_first_image_produced_some()
    {
        var batch = RandomBatch.Create(42, images: 2, proposals: 60, allowEmptyImage: false);
        var input = Input(batch) with { ImageSizes = zeros(2, 2) };
        var candidates = TargetSteps.AssignCandidates(input, Kernels.Assign.Thresholds.RcnnDefault, true);
        var positives = candidates.Assigned.GtInds > 0;
        var negatives = candidates.Assigned.GtInds == 0;
        var weights = full_like(candidates.Assigned.MaxOverlaps, 0.5);
        var made = tensor(new[] { false, true });
        Tensor NegativeWeights(Compat compat)
        {
            var s = TargetSteps.PackSamples(input, candidates, positives, negatives, 64, BoxCoder.Rcnn, compat, null, weights, made);
            var isNegative = s.Valid & (s.Labels == batch.NumClasses);
            return s.LabelWeights.view(2, 64)[1][isNegative.view(2, 64)[1]];
        }
        // Image 0 made no weights: mmdet applies none anywhere (image 1 keeps 1); corrected applies image 1's own (0.5).
        Assert.True((NegativeWeights(Compat.Mmdet) == 1).all().item<bool>());
        Assert.True((NegativeWeights(Compat.Corrected) == 0.5).all().item<bool>());
    }

    [Fact]
    public void The_single_stage_form_assigns_every_anchor_and_gives_finite_losses()
    {
        var batch = RandomBatch.Create(43, proposals: 300, allowEmptyImage: false);
        var input = new SingleStageInput(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtLabels, batch.GtMask, batch.NumClasses);
        var cls = randn([3, 300, batch.NumClasses], generator: new Generator(5)).requires_grad_();
        var pred = (randn([3, 300, 4], generator: new Generator(6)) * 0.1).requires_grad_();
        var losses = LossSteps.SingleStageLoss(input, cls, pred, new Kernels.Assign.Thresholds(0.5, 0.4, 0, true), new FocalSettings(), BoxLoss.SmoothL1Default,
            ReweightSettings.IsrPDefault, ReweightSettings.CarlDefault, BoxCoder.Rcnn, Compat.Corrected);
        var total = losses.Values.Aggregate((a, b) => a + b);
        Assert.True(float.IsFinite(total.item<float>()) && total.item<float>() > 0);
        total.backward();
        Assert.True(cls.grad!.isfinite().all().item<bool>());
    }
}
