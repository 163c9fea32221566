using Pisa.Kernels.Pipeline;
using static TorchSharp.torch;
using Pisa.Kernels.Reference;
using Port = Pisa.Kernels.Reference.LoopPort;

namespace Pisa.Kernels.Tests;

/// <summary>On random batches the fused, batched kernels agree with the loop-faithful port (the differential oracle).</summary>
public class DifferentialTests
{
    public static TheoryData<int> Seeds => new() { 21, 22, 23, 24 };

    [Theory, MemberData(nameof(Seeds))]
    public void Assignment_matches_the_per_image_per_gt_loops(int seed)
    {
        var batch = RandomBatch.Create(seed);
        var (candidates, mask) = Sample.WithGtsPrepended(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtMask);
        AssignmentMatchesThePort(batch, candidates, mask);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Assignment_over_several_tiles_of_candidates_matches_the_loops(int seed)
    {
        // 3 images x 60 gt slots: tiles of 1456 candidates. 1000 far-away boxes, then the proposals twice (4000 candidates,
        // three tiles): every gt's best IoU is reached in two tiles, and most first occurrences lie in the second tile, so
        // low-quality matching must find the global best and, without gt_max_assign_all, claim only its first occurrence.
        var batch = RandomBatch.Create(seed, images: 3, maxGts: 60, proposals: 1500);
        var farAway = tensor(new[] { 1e5f, 1e5f, 1e5f + 10, 1e5f + 10 }).expand(3, 1000, 4);
        var proposals = cat([farAway, batch.Proposals, batch.Proposals], 1);
        var mask = cat([ones(3, 1000, ScalarType.Bool), batch.ProposalMask, batch.ProposalMask], 1);
        AssignmentMatchesThePort(batch, proposals, mask);
    }

    /// <summary>
    /// The batched assignment of <paramref name="candidates"/> equals the port's, image by image, under the R-CNN and RPN
    /// thresholds and low-quality matching without gt_max_assign_all.
    /// </summary>
    private static void AssignmentMatchesThePort(RandomBatch batch, Tensor candidates, Tensor mask)
    {
        foreach (var t in new[] { Kernels.Assign.Thresholds.RcnnDefault, Kernels.Assign.Thresholds.RpnDefault, new Kernels.Assign.Thresholds(0.6, 0.4, 0.2, true, false) })
        {
            var fused = Kernels.Assign.MaxIoU(batch.Gts, candidates, batch.GtLabels, batch.GtMask, mask, t);
            for (int b = 0; b < candidates.shape[0]; b++)
            {
                var realGts = batch.GtMask[b];
                // The port sees only this image's real gts; padding gt slots come last, so gt numbers agree.
                var (gtInds, maxOverlaps, labels) = Port.Assign(candidates[b][mask[b]], batch.Gts[b][realGts], batch.GtLabels[b][realGts], t);
                Assert.Equal(gtInds, fused.GtInds[b][mask[b]].data<long>().ToArray());
                Assert.Equal(labels, fused.Labels[b][mask[b]].data<long>().ToArray());
                Assert.Equal(maxOverlaps, fused.MaxOverlaps[b][mask[b]].data<float>().ToArray());
            }
        }
    }

    [Theory]
    [InlineData(31, 300, 0.5)]
    [InlineData(32, 300, 0.7)]
    [InlineData(33, 5000, 0.5)]
    [InlineData(35, 2000, 0.3)] // below 0.5 the grid registers boxes by cover, not by centre
    [InlineData(36, 300, 0.0)] // IoU 0 groups boxes that do not touch: every box is every box's neighbour
    public void Nms_match_and_greedy_nms_match_the_textbook_loops(int seed, int n, double threshold)
    {
        var random = new Random(seed);
        var boxes = new float[n][];
        var scores = new float[n];
        for (int i = 0; i < n; i++)
        {
            float x = random.Next(0, 400), y = random.Next(0, 400), w = random.Next(0, 60), h = random.Next(0, 60);
            boxes[i] = [x, y, x + w, y + h]; // w or h may be 0: zero-area boxes included
            scores[i] = random.Next(1, 1_000_000) / 1e6f;
        }
        var boxTensor = tensor(boxes.SelectMany(b => b).ToArray(), [1, n, 4]);
        var scoreTensor = tensor(scores).unsqueeze(0);
        var match = Nms.Match(boxTensor, scoreTensor, ones(1, n, ScalarType.Bool), threshold);
        var group = match.Group[0].data<long>().ToArray();
        var position = match.PositionInGroup[0].data<long>().ToArray();
        var expected = Port.NmsMatch(boxes, scores, threshold);
        Assert.Equal(expected.Count, group.Max() + 1);
        for (int g = 0; g < expected.Count; g++)
            for (int j = 0; j < expected[g].Length; j++)
            {
                Assert.Equal(g, group[expected[g][j]]);
                Assert.Equal(j, position[expected[g][j]]);
            }

        var keep = Nms.Greedy(boxTensor[0], scoreTensor[0], threshold).data<long>().ToArray();
        Assert.Equal(LoopNms.Keep(boxes, scores, threshold), keep);
    }

    [Fact]
    public void Nms_match_over_padded_images_groups_only_the_valid_boxes_of_each_image()
    {
        // Two images of 4,000 slots, about 60 % valid: several row tiles, and the later ones stop at the valid prefix.
        const int n = 4000;
        var random = new Random(34);
        var boxes = new float[2 * n * 4];
        var scores = new float[2 * n];
        var valid = new bool[2 * n];
        for (int i = 0; i < 2 * n; i++)
        {
            float x = random.Next(0, 300), y = random.Next(0, 300), w = random.Next(1, 60), h = random.Next(1, 60);
            new[] { x, y, x + w, y + h }.CopyTo(boxes, i * 4);
            scores[i] = random.Next(1, 1_000_000) / 1e6f;
            valid[i] = random.NextDouble() < 0.6;
        }
        var match = Nms.Match(tensor(boxes, [2, n, 4]), tensor(scores, [2, n]), tensor(valid, [2, n]), 0.5);
        for (int b = 0; b < 2; b++)
        {
            var kept = Enumerable.Range(b * n, n).Where(i => valid[i]).ToArray();
            var expected = Port.NmsMatch(kept.Select(i => boxes.AsSpan(i * 4, 4).ToArray()).ToArray(), kept.Select(i => scores[i]).ToArray(), 0.5);
            var group = match.Group[b].data<long>().ToArray();
            var position = match.PositionInGroup[b].data<long>().ToArray();
            Assert.All(Enumerable.Range(0, n).Where(i => !valid[b * n + i]), i => Assert.Equal(-1, group[i]));
            for (int g = 0; g < expected.Count; g++)
                for (int j = 0; j < expected[g].Length; j++)
                {
                    int slot = kept[expected[g][j]] - b * n;
                    Assert.Equal((g, j), (group[slot], position[slot]));
                }
        }
    }

    [Fact]
    public void Batched_nms_never_lets_two_categories_suppress_each_other()
    {
        // Two identical boxes of different categories both stay; a third, same category as the first, is suppressed.
        var boxes = tensor(new float[] { 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10 }, [3, 4]);
        var keep = Nms.Batched(boxes, tensor(new float[] { 0.9f, 0.8f, 0.7f }), tensor(new long[] { 0, 1, 0 }), 0.5);
        Assert.Equal(new long[] { 0, 1 }, keep.data<long>().ToArray());
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Iou_hlr_isr_p_and_carl_match_the_per_class_per_gt_loops(int seed)
    {
        var g = new Generator((ulong)seed);
        const int n = 90, c = 5;
        var labels = randint(0, c + 1, [n], generator: g);
        var gtIds = where(labels < c, randint(0, 9, [n], generator: g), full_like(labels, -1L));
        var xy = rand([n, 2], generator: g) * 100;
        var rois = cat([xy, xy + 10 + rand([n, 2], generator: g) * 50], 1);
        var cls = randn([n, c + 1], generator: g) * 2;
        var pred = randn([n, 4 * c], generator: g) * 0.5;
        var targets = randn([n, 4], generator: g) * 0.5;
        var weights = rand([n], generator: g) * 0.5 + 0.5;
        var labelArray = labels.data<long>().ToArray();

        var fused = Reweight.IsrP(cls, pred, rois, labels, weights, targets, gtIds, c, ReweightSettings.IsrPDefault, BoxCoder.Rcnn, Compat.Mmdet);
        var port = Port.IsrP(cls, pred, rois, labelArray, weights.data<float>().ToArray(), targets, gtIds.data<long>().ToArray(), c, ReweightSettings.IsrPDefault, BoxCoder.Rcnn);
        var fusedValues = fused.data<float>().ToArray();
        for (int i = 0; i < n; i++) Assert.Equal(port[i], fusedValues[i], 1e-4f * Math.Max(1, port[i]));

        double carl = Reweight.Carl(cls, labels, pred, targets, c, ReweightSettings.CarlDefault, false, BoxLoss.SmoothL1Default).item<float>();
        Assert.Equal(Port.Carl(cls, labelArray, pred, targets, c, ReweightSettings.CarlDefault), carl, 1e-4 * Math.Max(1, carl));
    }

    /// <summary>
    /// A single-stage batch (sigmoid head, every anchor a sample) of four images with 3, 2, 4 and 3 gts of two classes: under
    /// <c>mmdet</c> the offsets are 0, 3, 2, 4 (each the previous image's largest gt index + 1, Q3), so gt ids of images 1-3
    /// collide and same-class gts of different images share an HLR group. An image without positives (<paramref name="emptyImage"/>)
    /// leaves the offset unchanged.
    /// </summary>
    [Theory]
    [InlineData(51, Compat.Mmdet, -1)]
    [InlineData(52, Compat.Mmdet, -1)]
    [InlineData(53, Compat.Mmdet, 1)]
    [InlineData(51, Compat.Corrected, -1)]
    [InlineData(53, Compat.Corrected, 1)]
    public void Single_stage_isr_p_with_batch_gt_ids_matches_the_per_image_per_class_per_gt_loops(int seed, Compat compat, int emptyImage)
    {
        var random = new Random(seed);
        const int b = 4, a = 48, c = 2;
        long[] gtCounts = [3, 2, 4, 3];
        var gtClass = gtCounts.Select(count => Enumerable.Range(0, (int)count).Select(_ => (long)random.Next(c)).ToArray()).ToArray();
        var gtInds = new long[b * a];
        var labels = new long[b * a];
        var labelWeights = new float[b * a];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < a; j++)
            {
                double u = random.NextDouble();
                long gt = u < 0.1 ? -1 : u < 0.5 || i == emptyImage ? 0 : random.Next(1, (int)gtCounts[i] + 1); // -1 ignored, 0 negative
                gtInds[i * a + j] = gt;
                labels[i * a + j] = gt > 0 ? gtClass[i][gt - 1] : c;
                labelWeights[i * a + j] = gt >= 0 ? 1 : 0;
            }

        // The loop port: each image's positives' 0-based gt indices, offset image by image.
        var positiveGts = Enumerable.Range(0, b).Select(i => gtInds.Skip(i * a).Take(a).Where(g => g > 0).Select(g => g - 1).ToArray()).ToArray();
        var perImage = Port.BatchGtIds(positiveGts, gtCounts, compat);
        var portIds = new long[b * a];
        for (int i = 0; i < b; i++)
        {
            int k = 0;
            for (int j = 0; j < a; j++) portIds[i * a + j] = gtInds[i * a + j] > 0 ? perImage[i][k++] : -1;
        }
        var fusedIds = Reweight.BatchGtIds(tensor(gtInds, [b, a]), tensor(gtCounts), compat).flatten();
        Assert.Equal(portIds, fusedIds.data<long>().ToArray());
        // The case this test is for: under mmdet, some (class, gt id) group holds positives of two images.
        bool merged = Enumerable.Range(0, b * a).Where(i => portIds[i] >= 0).GroupBy(i => (labels[i], portIds[i])).Any(g => g.Select(i => i / a).Distinct().Count() > 1);
        Assert.Equal(compat == Compat.Mmdet, merged);

        var g = new Generator((ulong)seed);
        var xy = rand([b * a, 2], generator: g) * 100;
        var rois = cat([xy, xy + 10 + rand([b * a, 2], generator: g) * 50], 1);
        var cls = randn([b * a, c], generator: g) * 2;
        var pred = randn([b * a, 4], generator: g) * 0.3;
        var targets = randn([b * a, 4], generator: g) * 0.3 * (tensor(labels) < c).unsqueeze(-1);
        var coder = BoxCoder.Unit;
        var fused = Reweight.IsrP(cls, pred, rois, tensor(labels), tensor(labelWeights), targets, fusedIds, c, ReweightSettings.IsrPDefault, coder,
            compat, sigmoid: true).data<float>().ToArray();
        var port = Port.IsrP(cls, pred, rois, labels, labelWeights, targets, portIds, c, ReweightSettings.IsrPDefault, coder, sigmoid: true, compat: compat);
        for (int i = 0; i < b * a; i++) Assert.Equal(port[i], fused[i], 1e-4f * Math.Max(1, port[i]));
    }

    /// <summary>
    /// The whole single-stage classification loss (assignment, batch gt ids, ISR-P with the focal loss as its normaliser, focal
    /// loss / positives) against the loops, on four images: the pipeline glue (flattening, gt counts, which rows are positive)
    /// included. ISR-P keeps the positives' loss sum, so the loss value cannot tell weights apart: the gradient with respect to
    /// the logits (each row's focal gradient times its weight) is what is compared.
    /// </summary>
    [Theory]
    [InlineData(61, Compat.Mmdet)]
    [InlineData(64, Compat.Mmdet)]
    [InlineData(61, Compat.Corrected)]
    public void Single_stage_loss_with_isr_p_matches_the_loops_on_four_images(int seed, Compat compat)
    {
        var batch = RandomBatch.Create(seed, images: 4, proposals: 150, numClasses: 2, allowEmptyImage: false);
        long b = 4, n = 150, c = batch.NumClasses;
        var input = new SingleStageInput(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtLabels, batch.GtMask, batch.NumClasses);
        var thresholds = new Kernels.Assign.Thresholds(0.5, 0.4, 0, true);
        var logits = randn([b, n, c], generator: new Generator((ulong)seed)) * 2;
        var pred = randn([b, n, 4], generator: new Generator((ulong)seed + 1)) * 0.2;
        var coder = BoxCoder.Unit;
        var cls = logits.clone().requires_grad_();
        var fused = LossSteps.SingleStageLoss(input, cls, pred, thresholds, new FocalSettings(), BoxLoss.SmoothL1Default, ReweightSettings.IsrPDefault, null,
            coder, compat)["loss_cls"];
        fused.backward();

        var labels = new long[b * n];
        var weights = new float[b * n];
        var targets = zeros(b * n, 4);
        var positiveGts = new long[b][];
        var gtCounts = new long[b];
        for (int i = 0; i < b; i++)
        {
            var real = batch.GtMask[i];
            var gts = batch.Gts[i][real];
            gtCounts[i] = gts.shape[0];
            var (gtInds, _, assignedLabels) = Port.Assign(batch.Proposals[i], gts, batch.GtLabels[i][real], thresholds);
            positiveGts[i] = gtInds.Where(x => x > 0).Select(x => x - 1).ToArray();
            for (int j = 0; j < n; j++)
            {
                long row = i * n + j;
                labels[row] = gtInds[j] > 0 ? assignedLabels[j] : c;
                weights[row] = gtInds[j] >= 0 ? 1 : 0;
                if (gtInds[j] > 0) targets[row] = coder.Encode(batch.Proposals[i][j].unsqueeze(0), gts[gtInds[j] - 1].unsqueeze(0))[0];
            }
        }
        var perImage = Port.BatchGtIds(positiveGts, gtCounts, compat);
        var ids = Enumerable.Repeat(-1L, (int)(b * n)).ToArray();
        for (int i = 0; i < b; i++)
            for (int j = 0, k = 0; j < n; j++)
                if (labels[i * n + j] < c) ids[i * n + j] = perImage[i][k++];
        var isr = Port.IsrP(logits.reshape(-1, c), pred.reshape(-1, 4), batch.Proposals.reshape(-1, 4), labels, weights, targets, ids, c,
            ReweightSettings.IsrPDefault, coder, sigmoid: true, compat: compat);
        int positives = labels.Count(l => l < c);
        Assert.True(positives > 0);
        var reference = logits.clone().reshape(-1, c).requires_grad_();
        var expected = (Loss.SigmoidFocal(reference, tensor(labels)).sum(-1) * tensor(isr)).sum() / positives;
        expected.backward();
        Assert.Equal(expected.item<float>(), fused.item<float>(), 1e-4 * Math.Max(1, expected.item<float>()));
        var expectedGrad = reference.grad!.data<float>().ToArray();
        var fusedGrad = cls.grad!.reshape(-1).data<float>().ToArray();
        for (int i = 0; i < expectedGrad.Length; i++) Assert.Equal(expectedGrad[i], fusedGrad[i], 1e-6f + 1e-4f * Math.Abs(expectedGrad[i]));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Score_hlr_matches_the_per_group_loop_when_enough_negatives_are_valid(int seed)
    {
        var batch = RandomBatch.Create(seed, images: 2, proposals: 200, allowEmptyImage: false);
        var (candidates, mask) = Sample.WithGtsPrepended(batch.Proposals, batch.ProposalMask, batch.Gts, batch.GtMask);
        var assigned = Kernels.Assign.MaxIoU(batch.Gts, candidates, batch.GtLabels, batch.GtMask, mask, Kernels.Assign.Thresholds.RcnnDefault);
        var negatives = assigned.GtInds == 0;
        long b = candidates.shape[0], n = candidates.shape[1];
        var logits = RandomBatch.Logits(seed, b, n, batch.NumClasses);
        var deltas = randn([b, n, 4 * batch.NumClasses], generator: new Generator((ulong)seed)) * 0.2;
        var settings = new ScoreHlrSettings();
        const long budget = 25; // far fewer than the valid negatives: no random fill, so the result is deterministic
        var fused = Sample.ScoreHlrNegatives(negatives, logits, deltas, candidates, full(b, budget), settings, BoxCoder.Rcnn, Compat.Mmdet, new Generator(1));
        var fusedWeightsAll = Reweight.IsrN(fused, ReweightSettings.IsrNDefault);
        for (int i = 0; i < b; i++)
        {
            var negIndex = negatives[i].nonzero().squeeze(-1);
            var (selected, weights) = Port.ScoreHlrNegatives(logits[i].index_select(0, negIndex), deltas[i].index_select(0, negIndex),
                candidates[i].index_select(0, negIndex), budget, settings, ReweightSettings.IsrNDefault, BoxCoder.Rcnn, new Random(1));
            Assert.Equal(budget, selected.Length);
            var chosen = fused.Selected[i].nonzero().squeeze(-1);
            var inOrder = chosen.index_select(0, fused.Order[i].index_select(0, chosen).argsort());
            Assert.Equal(selected.Select(k => negIndex[k].item<long>()), inOrder.data<long>().ToArray());
            var fusedWeights = fusedWeightsAll[i].index_select(0, inOrder).data<float>().ToArray();
            for (int k = 0; k < weights.Length; k++) Assert.Equal(weights[k], fusedWeights[k], 1e-4f);
        }
    }
}
