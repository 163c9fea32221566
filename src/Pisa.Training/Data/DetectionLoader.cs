using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Data;

/// <summary>How the loader turns entries into batches.</summary>
/// <param name="ImageWidth">Every image is resized to ImageWidth × ImageHeight (aspect ratio not kept; the per-axis
/// scale factors are kept in <see cref="ImageTransform"/> so results map back).</param>
/// <param name="HorizontalFlip">Flip each image left-right with probability 1/2 (seeded); for training only.</param>
public sealed record LoaderOptions(
    int BatchSize = 8, int ImageWidth = 128, int ImageHeight = 128, bool Shuffle = true, bool HorizontalFlip = true, int Seed = 0, bool DropLast = false)
{
    /// <summary>Evaluation: keep order, no flip, keep the last short batch.</summary>
    public static LoaderOptions ForEvaluation(int batchSize = 8, int imageWidth = 128, int imageHeight = 128) =>
        new(batchSize, imageWidth, imageHeight, Shuffle: false, HorizontalFlip: false);
}

/// <summary>What was done to one image: network-input coordinates = original × scale, then mirrored if flipped.</summary>
public readonly record struct ImageTransform(long ImageId, int OriginalWidth, int OriginalHeight, float ScaleX, float ScaleY, bool Flipped, int InputWidth, int InputHeight)
{
    /// <summary>A box from network-input coordinates back to the original image's.</summary>
    public BoxXyxy ToOriginal(BoxXyxy box)
    {
        var unflipped = Flipped ? box.FlipHorizontally(InputWidth) : box;
        return unflipped.Scale(1 / ScaleX, 1 / ScaleY);
    }
}

/// <summary>
/// A padded batch. Ground truths are padded to the batch's largest count G (at least 1, so reductions over G are
/// defined); <see cref="GtMask"/> marks the real ones. Crowd regions are padded the same way to Gc.
/// </summary>
public sealed class DetectionBatch : IDisposable
{
    /// <summary>float32 <c>[B, 3, H, W]</c> in [0, 1].</summary>
    public required Tensor Images { get; init; }
    /// <summary>float32 <c>[B, G, 4]</c> x1y1x2y2 in input pixels; zeros where padded.</summary>
    public required Tensor GtBoxes { get; init; }
    /// <summary>int64 <c>[B, G]</c> labels 0..C-1; -1 where padded.</summary>
    public required Tensor GtLabels { get; init; }
    /// <summary>bool <c>[B, G]</c>.</summary>
    public required Tensor GtMask { get; init; }
    /// <summary>float32 <c>[B, Gc, 4]</c> crowd (ignore) regions.</summary>
    public required Tensor CrowdBoxes { get; init; }
    /// <summary>bool <c>[B, Gc]</c>.</summary>
    public required Tensor CrowdMask { get; init; }
    public required IReadOnlyList<ImageTransform> Transforms { get; init; }

    public int Size => Transforms.Count;

    /// <summary>A copy on <paramref name="device"/> (the CPU batch stays as is).</summary>
    public DetectionBatch To(Device device) => new()
    {
        Images = Images.to(device),
        GtBoxes = GtBoxes.to(device),
        GtLabels = GtLabels.to(device),
        GtMask = GtMask.to(device),
        CrowdBoxes = CrowdBoxes.to(device),
        CrowdMask = CrowdMask.to(device),
        Transforms = Transforms,
    };

    public void Dispose()
    {
        foreach (var t in new[] { Images, GtBoxes, GtLabels, GtMask, CrowdBoxes, CrowdMask }) t.Dispose();
    }
}

/// <summary>
/// Seeded batching over a <see cref="DetectionDataset"/>: epoch e's order and flips depend only on (seed, e),
/// so a run can resume at any epoch and two runs with one seed see the same batches.
/// </summary>
public sealed class DetectionLoader(DetectionDataset dataset, LoaderOptions options)
{
    public DetectionDataset Dataset { get; } = dataset;
    public LoaderOptions Options { get; } = options;

    public int BatchesPerEpoch => Options.DropLast ? Dataset.Count / Options.BatchSize : (Dataset.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The batches of epoch <paramref name="epoch"/>; dispose each after use.</summary>
    public IEnumerable<DetectionBatch> Epoch(int epoch)
    {
        var rng = new Random(HashCode32(Options.Seed, epoch));
        int[] order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Options.Shuffle) rng.Shuffle(order);
        bool[] flips = order.Select(_ => Options.HorizontalFlip && rng.NextDouble() < 0.5).ToArray();
        for (int start = 0; start < order.Length; start += Options.BatchSize)
        {
            int count = Math.Min(Options.BatchSize, order.Length - start);
            if (count < Options.BatchSize && Options.DropLast) yield break;
            yield return Collate(Enumerable.Range(start, count).Select(i => (Dataset.Entries[order[i]], flips[i])).ToList());
        }
    }

    /// <summary>Stacks entries (resized, maybe flipped) into one padded batch.</summary>
    public DetectionBatch Collate(IReadOnlyList<(DetectionEntry Entry, bool Flip)> items)
    {
        int b = items.Count, w = Options.ImageWidth, h = Options.ImageHeight;
        int g = Math.Max(1, items.Max(i => i.Entry.Boxes.Count)), gc = Math.Max(1, items.Max(i => i.Entry.CrowdBoxes.Count));
        var boxes = new float[b * g * 4];
        var labels = Enumerable.Repeat(-1L, b * g).ToArray();
        var mask = new bool[b * g];
        var crowd = new float[b * gc * 4];
        var crowdMask = new bool[b * gc];
        var transforms = new ImageTransform[b];
        using var scope = NewDisposeScope();
        var images = new Tensor[b];
        for (int i = 0; i < b; i++)
        {
            var (entry, flip) = items[i];
            var t = transforms[i] = new ImageTransform(entry.ImageId, entry.Width, entry.Height, (float)w / entry.Width, (float)h / entry.Height, flip, w, h);
            images[i] = ResizeAndFlip(entry.Image, w, h, flip);
            for (int j = 0; j < entry.Boxes.Count; j++)
            {
                Write(boxes, (i * g + j) * 4, ToInput(entry.Boxes[j], t));
                labels[i * g + j] = entry.Labels[j];
                mask[i * g + j] = true;
            }
            for (int j = 0; j < entry.CrowdBoxes.Count; j++)
            {
                Write(crowd, (i * gc + j) * 4, ToInput(entry.CrowdBoxes[j], t));
                crowdMask[i * gc + j] = true;
            }
        }
        return new DetectionBatch
        {
            Images = stack(images).MoveToOuterDisposeScope(),
            GtBoxes = tensor(boxes).reshape(b, g, 4).MoveToOuterDisposeScope(),
            GtLabels = tensor(labels).reshape(b, g).MoveToOuterDisposeScope(),
            GtMask = tensor(mask).reshape(b, g).MoveToOuterDisposeScope(),
            CrowdBoxes = tensor(crowd).reshape(b, gc, 4).MoveToOuterDisposeScope(),
            CrowdMask = tensor(crowdMask).reshape(b, gc).MoveToOuterDisposeScope(),
            Transforms = transforms,
        };
    }

    /// <summary><c>[3, h, w]</c>: bilinear resize (skipped when the size already matches), then the optional mirror.</summary>
    private static Tensor ResizeAndFlip(RgbImage image, int w, int h, bool flip)
    {
        var pixels = image.ToTensor();
        if (image.Width != w || image.Height != h)
            pixels = nn.functional.interpolate(pixels.unsqueeze(0), [h, w], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
        return flip ? pixels.flip(2) : pixels;
    }

    private static BoxXyxy ToInput(BoxXyxy box, ImageTransform t)
    {
        var scaled = box.Scale(t.ScaleX, t.ScaleY);
        return t.Flipped ? scaled.FlipHorizontally(t.InputWidth) : scaled;
    }

    private static void Write(float[] target, int offset, BoxXyxy box) =>
        (target[offset], target[offset + 1], target[offset + 2], target[offset + 3]) = (box.X1, box.Y1, box.X2, box.Y2);

    private static int HashCode32(int seed, int epoch) => (int)((uint)seed * 2654435761u ^ (uint)epoch * 40503u);
}
