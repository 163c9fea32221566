using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using TorchSharp;

namespace Pisa.Training.Tests;

public class DetectionLoaderTests
{
    /// <summary>A 64×32 image whose left 16 columns are white and the rest black, with one box; and an empty 64×32 image.</summary>
    private static DetectionDataset TwoImages()
    {
        var pixels = new byte[64 * 32 * 3];
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 16; x++)
                pixels[3 * (y * 64 + x)] = pixels[3 * (y * 64 + x) + 1] = pixels[3 * (y * 64 + x) + 2] = 255;
        var categories = new CategoryMap([new CocoCategory(5, "thing", null)]);
        var entries = new List<DetectionEntry>
        {
            new(1, "1.png", new RgbImage(64, 32, pixels), [new BoxXyxy(4, 5, 14, 25), new BoxXyxy(0, 0, 8, 8)], [0, 0], []),
            new(2, "2.png", new RgbImage(64, 32, new byte[64 * 32 * 3]), [], [], [new BoxXyxy(1, 1, 3, 3)]),
        };
        return new DetectionDataset("test", categories, entries, new CocoDataset([], categories.Categories, []), []);
    }

    [Fact]
    public void A_batch_is_padded_to_the_most_boxes_with_a_mask()
    {
        var loader = new DetectionLoader(TwoImages(), LoaderOptions.ForEvaluation(batchSize: 2));
        using var batch = Assert.Single(loader.Epoch(0));

        Assert.Equal([2L, 3, 128, 128], batch.Images.shape);
        Assert.Equal([2L, 2, 4], batch.GtBoxes.shape);
        Assert.Equal([true, true, false, false], batch.GtMask.data<bool>().ToArray());
        Assert.Equal([0L, 0, -1, -1], batch.GtLabels.data<long>().ToArray());
        Assert.Equal([false, true], batch.CrowdMask.data<bool>().ToArray());
    }

    [Fact]
    public void Resizing_scales_boxes_per_axis_and_maps_back()
    {
        var loader = new DetectionLoader(TwoImages(), LoaderOptions.ForEvaluation(batchSize: 2));
        using var batch = loader.Epoch(0).First();
        // 64×32 → 128×128 scales x by 2 and y by 4: [4, 5, 14, 25] → [8, 20, 28, 100].
        Assert.Equal([8f, 20, 28, 100], batch.GtBoxes[0, 0].data<float>().ToArray());
        Assert.Equal(new BoxXyxy(4, 5, 14, 25), batch.Transforms[0].ToOriginal(new BoxXyxy(8, 20, 28, 100)));
    }

    [Fact]
    public void A_flip_mirrors_pixels_and_boxes_together_and_maps_back()
    {
        var dataset = TwoImages();
        var loader = new DetectionLoader(dataset, LoaderOptions.ForEvaluation());
        using var batch = loader.Collate([(dataset.Entries[0], true)]);
        // Scaled box [8, 20, 28, 100] mirrored in a 128 px wide input: [128 - 28, 20, 128 - 8, 100].
        Assert.Equal([100f, 20, 120, 100], batch.GtBoxes[0, 0].data<float>().ToArray());
        // The white band (original columns 0..15, input columns 0..31) is now on the right.
        Assert.Equal(1f, batch.Images[0, 0, 64, 127].item<float>());
        Assert.Equal(0f, batch.Images[0, 0, 64, 0].item<float>());
        Assert.Equal(new BoxXyxy(4, 5, 14, 25), batch.Transforms[0].ToOriginal(new BoxXyxy(100, 20, 120, 100)));
    }

    [Fact]
    public void Shuffling_and_flips_depend_only_on_seed_and_epoch()
    {
        var dataset = new DetectionDataset("many", new CategoryMap([]), Enumerable.Range(1, 40)
            .Select(i => new DetectionEntry(i, $"{i}", new RgbImage(8, 8, new byte[8 * 8 * 3]), [], [], [])).ToList(),
            new CocoDataset([], [], []), []);
        List<(long Id, bool Flipped)> Order(int seed, int epoch) =>
            new DetectionLoader(dataset, new LoaderOptions(BatchSize: 16, ImageWidth: 8, ImageHeight: 8, Seed: seed))
                .Epoch(epoch).SelectMany(b => { using (b) return b.Transforms.Select(t => (t.ImageId, t.Flipped)).ToList(); }).ToList();

        Assert.Equal(Order(3, 1), Order(3, 1));
        Assert.NotEqual(Order(3, 1), Order(3, 2));
        Assert.NotEqual(Order(3, 1), Order(4, 1));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), Order(3, 1).Select(o => o.Id).Order());
        Assert.Contains(Order(3, 1), o => o.Flipped);
        Assert.Contains(Order(3, 1), o => !o.Flipped);
    }

    [Fact]
    public void Drop_last_leaves_out_the_short_batch()
    {
        var dataset = TwoImages();
        var loader = new DetectionLoader(dataset, new LoaderOptions(BatchSize: 3, DropLast: true));
        Assert.Equal(0, loader.BatchesPerEpoch);
        Assert.Empty(loader.Epoch(0));
        Assert.Equal(1, new DetectionLoader(dataset, new LoaderOptions(BatchSize: 3)).BatchesPerEpoch);
    }
}
