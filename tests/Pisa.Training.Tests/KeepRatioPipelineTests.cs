using Pisa.Evaluation.Coco;
using Pisa.Kernels;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Engine;
using Pisa.Training.Inference;
using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

/// <summary>mmdetection's train pipeline on non-square images: keep-ratio resize, multi-scale, padded batches with valid sizes, prefetch.</summary>
public class KeepRatioPipelineTests
{
    /// <summary>A landscape 300×200 image and a portrait 150×400 one whose left 15 columns are white, one box each.</summary>
    private static DetectionDataset NonSquare()
    {
        var portrait = new byte[150 * 400 * 3];
        for (int y = 0; y < 400; y++)
            for (int x = 0; x < 15; x++)
                portrait[3 * (y * 150 + x)] = portrait[3 * (y * 150 + x) + 1] = portrait[3 * (y * 150 + x) + 2] = 255;
        var categories = new CategoryMap([new CocoCategory(1, "thing", null)]);
        var entries = new List<DetectionEntry>
        {
            new(1, "landscape.png", new RgbImage(300, 200, new byte[300 * 200 * 3]), [new BoxXyxy(30, 20, 150, 100)], [0], []),
            new(2, "portrait.png", new RgbImage(150, 400, portrait), [new BoxXyxy(30, 40, 90, 200)], [0], []),
        };
        return new DetectionDataset("non-square", categories, entries, new CocoDataset([], categories.Categories, []), []);
    }

    private static LoaderOptions KeepRatio(int longSide, int shortSide, int batch = 2) =>
        LoaderOptions.ForEvaluation(batch) with { KeepRatio = new KeepRatioScale(longSide, shortSide), PadDivisor = 32 };

    [Theory]
    [InlineData(300, 200, 320, 224, 320, 213)]   // min(320/300, 224/200) = 16/15: 200·16/15 = 213.3 → 213
    [InlineData(150, 400, 1333, 800, 500, 1333)] // min(1333/400, 800/150) = 3.3325: 150·3.3325 = 499.9 → 500
    [InlineData(150, 400, 300, 200, 113, 300)]   // min(300/400, 200/150) = 0.75: 112.5 rounds half up to 113
    [InlineData(64, 64, 320, 224, 224, 224)]     // a square image: the short limit binds
    public void Keep_ratio_size_is_the_largest_that_fits_both_limits(int w, int h, int longSide, int shortSide, int expectedW, int expectedH) =>
        Assert.Equal((expectedW, expectedH), new KeepRatioScale(longSide, shortSide).SizeOf(w, h));

    [Fact]
    public void A_mixed_batch_is_padded_to_a_multiple_of_32_and_keeps_each_images_valid_size()
    {
        var loader = new DetectionLoader(NonSquare(), KeepRatio(300, 200));
        using var batch = Assert.Single(loader.Epoch(0));
        // Landscape: factor 1 → 300×200; portrait: 0.75 → 113×300. Largest 300 × 300, padded up to 320 × 320.
        Assert.Equal([2L, 3, 320, 320], batch.Images.shape);
        Assert.Equal([200f, 300, 300, 113], batch.ValidSizes().data<float>().ToArray());
        Assert.Equal([(200, 300), (300, 113)], DetectorRunner.ValidSizes(batch));
        // Padding is zeros; the portrait's white band stays at its left edge.
        Assert.Equal(0f, batch.Images[1, .., .., 113..].abs().sum().item<float>());
        Assert.Equal(0f, batch.Images[1, .., 300.., ..].abs().sum().item<float>());
        Assert.Equal(1f, batch.Images[1, 0, 150, 5].item<float>(), 4);
    }

    [Fact]
    public void A_box_round_trips_through_resize_flip_and_padding_exactly()
    {
        var dataset = NonSquare();
        var loader = new DetectionLoader(dataset, KeepRatio(300, 200));
        using var batch = loader.Collate([(dataset.Entries[0], false), (dataset.Entries[1], true)]);
        // Portrait: x × 113/150, y × 0.75: [30, 40, 90, 200] → [22.6, 30, 67.8, 150]; mirrored in its own 113 px
        // (not the batch's 320): [113 - 67.8, 30, 113 - 22.6, 150] = [45.2, 30, 90.4, 150].
        float[] input = batch.GtBoxes[1, 0].data<float>().ToArray();
        Assert.Equal([45.2f, 30, 90.4f, 150], input, (a, b) => Math.Abs(a - b) < 1e-4);
        var back = batch.Transforms[1].ToOriginal(new BoxXyxy(input[0], input[1], input[2], input[3]));
        // Back to the original to float32 rounding (113/150 has no exact binary form): within 1e-4 px.
        Assert.Equal([30f, 40, 90, 200], [back.X1, back.Y1, back.X2, back.Y2], (a, b) => Math.Abs(a - b) < 1e-4);
        // The mirrored white band sits at the right edge of the valid width, before the padding.
        Assert.Equal(1f, batch.Images[1, 0, 150, 110].item<float>(), 4);
        Assert.Equal(0f, batch.Images[1, 0, 150, 115].item<float>());
        // Landscape unscaled: [30, 20, 150, 100] as it is.
        Assert.Equal([30f, 20, 150, 100], batch.GtBoxes[0, 0].data<float>().ToArray());
    }

    [Fact]
    public void Detections_in_padded_input_map_back_to_original_pixels()
    {
        // A dense head's boxes decoded with zero deltas are the anchors; one anchor in the portrait's valid region at
        // input [45.2, 30, 90.4, 150] (flipped) must come back as the original [30, 40, 90, 200].
        var dataset = NonSquare();
        var loader = new DetectionLoader(dataset, KeepRatio(300, 200));
        using var batch = loader.Collate([(dataset.Entries[1], true)]);
        var anchors = tensor(new float[] { 45.2f, 30, 90.4f, 150 }).reshape(1, 4);
        var logits = full(1, 1, 1, 5f);
        var detections = DetectionDecoder.FromDenseHead(anchors, logits, zeros(1, 1, 4), batch.Transforms, dataset.Categories, new DecodeOptions(), BoxCoder.Unit);
        var box = Assert.Single(detections).Bbox;
        Assert.Equal([30.0, 40, 60, 160], box, (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public void Anchors_centred_in_padding_are_not_valid_and_never_become_samples()
    {
        using var scope = NewDisposeScope();
        // Two 64 px wide images in a 64×64 batch: the first 64×40 (24 rows of padding), the second 64×64.
        var entries = new List<DetectionEntry>
        {
            new(1, "short.png", new RgbImage(64, 40, new byte[64 * 40 * 3]), [new BoxXyxy(8, 8, 24, 24)], [0], []),
            new(2, "full.png", new RgbImage(64, 64, new byte[64 * 64 * 3]), [new BoxXyxy(8, 8, 24, 24)], [0], []),
        };
        var dataset = new DetectionDataset("two", new CategoryMap([new CocoCategory(1, "thing", null)]), entries, new CocoDataset([], [], []), []);
        using var batch = new DetectionLoader(dataset, KeepRatio(64, 64)).Collate([(entries[0], false), (entries[1], false)]);
        Assert.Equal([2L, 3, 64, 64], batch.Images.shape);

        var generator = AnchorGenerator.ForSmallImages([4, 8]); // 6 anchors per cell (2 sizes × 3 ratios)
        var anchors = generator.ForImage(64, 64);
        Assert.Equal(16 * 16 * 6 + 8 * 8 * 6, anchors.shape[0]); // 1,920
        var valid = DetectorRunner.ValidAnchors(anchors, batch);
        // Centres (y + 0.5)·stride < 40: stride 4 rows 0..9 (10 × 16 cells), stride 8 rows 0..4 (5 × 8 cells).
        Assert.Equal((10 * 16 + 5 * 8) * 6, valid[0].sum().item<long>()); // 1,200: 720 anchors centred in the padding
        Assert.Equal(1920L, valid[1].sum().item<long>());

        // RPN assignment: with the mask the padding's anchors are ignored (-1), without it they would be negatives (0).
        var batchAnchors = anchors.unsqueeze(0).expand(2, -1, 4);
        var masked = Assign.MaxIoU(batch.GtBoxes, batchAnchors, batch.GtLabels, batch.GtMask, valid, Assign.Thresholds.RpnDefault);
        var unmasked = Assign.MaxIoU(batch.GtBoxes, batchAnchors, batch.GtLabels, batch.GtMask, ones_like(valid), Assign.Thresholds.RpnDefault);
        var padding = ~valid[0];
        Assert.Equal(720L, padding.sum().item<long>());
        Assert.Equal(720L, (masked.GtInds[0] == -1).logical_and(padding).sum().item<long>());
        Assert.Equal(720L, (unmasked.GtInds[0] == 0).logical_and(padding).sum().item<long>());
    }

    [Fact]
    public void Rpn_loss_leaves_out_an_anchor_in_the_padding()
    {
        // Anchor 0 equals the gt (positive, logit 0: BCE ln 2); anchor 1 is far away with logit 3. Sampled as a negative
        // it adds softplus(3) = 3.04859: (ln 2 + 3.04859) / 2 = 1.87087. Masked as padding it is not sampled: ln 2 / 1.
        using var scope = NewDisposeScope();
        var anchors = tensor(new float[] { 10, 10, 30, 30, 100, 100, 120, 120 }).reshape(2, 4);
        var objectness = tensor(new float[] { 0, 3 }).reshape(1, 2);
        var gt = tensor(new float[] { 10, 10, 30, 30 }).reshape(1, 1, 4);
        Dictionary<string, Tensor> Loss(Tensor? valid) =>
            RpnLoss.Compute(anchors, objectness, zeros(1, 2, 4), gt, zeros(1, 1, ScalarType.Int64), ones(1, 1, ScalarType.Bool), new Generator(0), valid);
        Assert.Equal(1.87087, Loss(null)["loss_rpn_cls"].item<float>(), 4);
        Assert.Equal(Math.Log(2), Loss(tensor(new[] { true, false }).reshape(1, 2))["loss_rpn_cls"].item<float>(), 5);
    }

    [Fact]
    public void Proposals_are_clipped_to_their_own_image_not_the_padded_batch()
    {
        using var scope = NewDisposeScope();
        // One anchor [10, 10, 90, 90] for two images in a 96×96 batch: valid 96 wide × 40 high, and 50 wide × 96 high.
        var anchors = tensor(new float[] { 10, 10, 90, 90 }).reshape(1, 4);
        using var proposals = ProposalGenerator.Generate(anchors, zeros(2, 1), zeros(2, 1, 4), [(40, 96), (96, 50)], new ProposalOptions(PostNmsTopK: 1));
        Assert.Equal([10f, 10, 90, 40, 10, 10, 50, 90], proposals.Boxes.data<float>().ToArray());
    }

    [Fact]
    public void Multi_scale_draws_one_listed_short_side_per_image_from_seed_and_epoch()
    {
        var dataset = new DetectionDataset("many", new CategoryMap([]), Enumerable.Range(1, 40)
            .Select(i => new DetectionEntry(i, $"{i}.png", new RgbImage(30, 20, new byte[30 * 20 * 3]), [], [], [])).ToList(),
            new CocoDataset([], [], []), []);
        List<(long Id, int Height)> Sizes(int seed, int epoch) =>
            new DetectionLoader(dataset, new LoaderOptions(BatchSize: 8, Seed: seed, KeepRatio: new KeepRatioScale(1000, 20), ShortSides: [10, 40]))
                .Epoch(epoch).SelectMany(b => { using (b) return b.Transforms.Select(t => (t.ImageId, t.InputHeight)).ToList(); }).ToList();
        var sizes = Sizes(5, 0);
        // Short side 10 → 15×10; 40 → 60×40 (the long limit 1000 does not bind).
        Assert.Equal([10, 40], sizes.Select(s => s.Height).Distinct().Order());
        Assert.Equal(sizes, Sizes(5, 0));
        Assert.NotEqual(sizes, Sizes(5, 1));
    }

    [Fact]
    public void The_square_default_is_unchanged_and_scale_switches_to_keep_ratio()
    {
        var (square, _) = TrainingFixtures.Recipe("faster-rcnn"); // the fixtures' image_size is 64
        var options = Trainer.LoaderFor(square, training: true);
        Assert.Equal((64, 64, (KeepRatioScale?)null, 1, true, true), (options.ImageWidth, options.ImageHeight, options.KeepRatio, options.PadDivisor, options.HorizontalFlip, options.DropLast));

        var (keep, _) = TrainingFixtures.Recipe("faster-rcnn", "train.scale=[320, 224]", "train.multiscale=[192, 224]", "train.pad_divisor=16");
        var train = Trainer.LoaderFor(keep, training: true);
        var eval = Trainer.LoaderFor(keep, training: false);
        Assert.Equal((new KeepRatioScale(320, 224), 16, true), (train.KeepRatio, train.PadDivisor, train.HorizontalFlip));
        Assert.Equal([192, 224], train.ShortSides!);
        Assert.Equal((new KeepRatioScale(320, 224), (IReadOnlyList<int>?)null, false, false), (eval.KeepRatio, eval.ShortSides, eval.HorizontalFlip, eval.Shuffle));
    }

    [Fact]
    public void A_resnet_batch_is_padded_with_the_mean_colour_which_normalises_to_zero_and_the_small_ones_with_black()
    {
        var (resnet, _) = TrainingFixtures.Recipe("faster-rcnn", "train.scale=[300, 200]", "model.backbone=resnet18");
        var (small, _) = TrainingFixtures.Recipe("faster-rcnn", "train.scale=[300, 200]");
        Assert.Null(Trainer.LoaderFor(small, training: false).PadColour);
        var options = Trainer.LoaderFor(resnet, training: false) with { BatchSize = 2 };
        using var batch = Assert.Single(new DetectionLoader(NonSquare(), options).Epoch(0));
        // The portrait (113×300) is padded right of column 113 and below row 300; ImageNet's mean is (0.485, 0.456, 0.406).
        var padding = batch.Images[1, .., .., 113..];
        var mean = torch.tensor(new[] { 0.485f, 0.456f, 0.406f }).view(3, 1, 1);
        var std = torch.tensor(new[] { 0.229f, 0.224f, 0.225f }).view(3, 1, 1);
        Assert.Equal(0f, ((padding - mean) / std).abs().max().item<float>(), 6);
        Assert.Equal(0f, batch.Images[1, .., 150, 5].sub(1f).abs().max().item<float>(), 4); // the white band is the image's
        Assert.Equal(0f, batch.Images[0, .., 100, 100].abs().max().item<float>());           // the black landscape is unpadded there
    }

    [Fact]
    public void Prefetched_batches_are_the_same_batches_in_the_same_order()
    {
        var loader = new DetectionLoader(TrainingFixtures.Train, new LoaderOptions(2, 64, 64, Seed: 3));
        List<(long, bool, float)> Read(IEnumerable<DetectionBatch> batches) => batches
            .SelectMany(b => { using (b) return b.Transforms.Select((t, i) => (t.ImageId, t.Flipped, b.Images[i].sum().item<float>())).ToList(); }).ToList();
        Assert.Equal(Read(loader.Epoch(1)), Read(Prefetcher.Ahead(loader.Epoch(1), 2)));
    }

    [Fact]
    public void A_failure_while_prefetching_reaches_the_reader_naming_the_file()
    {
        var categories = new CategoryMap([new CocoCategory(1, "thing", null)]);
        var entries = new List<DetectionEntry>
        {
            new(1, "good.png", new RgbImage(8, 8, new byte[8 * 8 * 3]), [], [], []),
            new(2, "bad.png", new RgbImage(8, 8, new byte[8 * 8 * 3]), [new BoxXyxy(1, 1, 4, 4)], [], []), // a box without a label
        };
        var loader = new DetectionLoader(new DetectionDataset("broken", categories, entries, new CocoDataset([], [], []), []), LoaderOptions.ForEvaluation(1, 8, 8));
        var read = new List<long>();
        var error = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var batch in Prefetcher.Ahead(loader.Epoch(0), 2)) using (batch) read.Add(batch.Transforms[0].ImageId);
        });
        Assert.Equal([1L], read);
        Assert.StartsWith("broken: preparing the batch of bad.png: ", error.Message);
    }

    [Fact]
    public void Stopping_early_disposes_what_was_prefetched_and_not_read()
    {
        var made = new List<Counted>();
        IEnumerable<Counted> Source()
        {
            for (int i = 0; i < 100; i++)
            {
                var item = new Counted();
                lock (made) made.Add(item);
                yield return item;
            }
        }
        using (var e = Prefetcher.Ahead(Source(), 2).GetEnumerator())
        {
            Assert.True(e.MoveNext());
            e.Current.Dispose();
        }
        lock (made)
        {
            Assert.InRange(made.Count, 1, 4); // the one read, at most two queued, one blocked on the full queue
            Assert.All(made, m => Assert.True(m.Disposed));
        }
    }

    private sealed class Counted : IDisposable
    {
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }
}
