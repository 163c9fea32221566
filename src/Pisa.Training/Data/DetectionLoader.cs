using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Data;

/// <summary>How the loader turns entries into batches.</summary>
/// <param name="ImageWidth">Every image is resized to ImageWidth × ImageHeight (aspect ratio not kept; the per-axis
/// scale factors are kept in <see cref="ImageTransform"/> so results map back).</param>
/// <param name="HorizontalFlip">Flip each image left-right with probability 1/2 (seeded); for training only.</param>
/// <param name="KeepRatio">When set, images keep their aspect ratio instead (<see cref="KeepRatioScale"/>; ImageWidth and
/// ImageHeight are unused) and a batch of mixed sizes is padded right and bottom.</param>
/// <param name="ShortSides">With <paramref name="KeepRatio"/>: multi-scale, each image's short-side limit drawn from these
/// (seeded, mmdetection's value mode), its long-side limit <paramref name="KeepRatio"/>'s.</param>
/// <param name="PadDivisor">A batch's height and width are padded up to a multiple of this.</param>
public sealed record LoaderOptions(
    int BatchSize = 8, int ImageWidth = 128, int ImageHeight = 128, bool Shuffle = true, bool HorizontalFlip = true, int Seed = 0, bool DropLast = false,
    KeepRatioScale? KeepRatio = null, IReadOnlyList<int>? ShortSides = null, int PadDivisor = 1, IReadOnlyList<float>? PadColour = null)
{
    /// <summary>Evaluation: keep order, no flip, keep the last short batch.</summary>
    public static LoaderOptions ForEvaluation(int batchSize = 8, int imageWidth = 128, int imageHeight = 128) =>
        new(batchSize, imageWidth, imageHeight, Shuffle: false, HorizontalFlip: false);

    /// <summary>The input size of a <paramref name="width"/> × <paramref name="height"/> image, with the short-side limit drawn for it.</summary>
    public (int Width, int Height) InputSizeOf(int width, int height, int? shortSide = null) => KeepRatio is { } scale
        ? (scale with { ShortSide = shortSide ?? scale.ShortSide }).SizeOf(width, height)
        : (ImageWidth, ImageHeight);
}

/// <summary>
/// What was done to one image: network-input coordinates = original × scale, then mirrored if flipped. The resized image
/// is <see cref="InputWidth"/> × <see cref="InputHeight"/> (its valid region: a padded batch adds pixels right and below).
/// </summary>
public readonly record struct ImageTransform(long ImageId, int OriginalWidth, int OriginalHeight, float ScaleX, float ScaleY, bool Flipped, int InputWidth, int InputHeight)
{
    /// <summary>A box from network-input coordinates back to the original image's (mirrored in the valid width, then divided by the scale).</summary>
    public BoxXyxy ToOriginal(BoxXyxy box)
    {
        var unflipped = Flipped ? box.FlipHorizontally(InputWidth) : box;
        return new BoxXyxy(unflipped.X1 / ScaleX, unflipped.Y1 / ScaleY, unflipped.X2 / ScaleX, unflipped.Y2 / ScaleY);
    }

    /// <summary>A box from the original image into network-input coordinates.</summary>
    public BoxXyxy ToInput(BoxXyxy box)
    {
        var scaled = box.Scale(ScaleX, ScaleY);
        return Flipped ? scaled.FlipHorizontally(InputWidth) : scaled;
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

    /// <summary>float32 <c>[B, 2]</c>: each image's valid (height, width) inside the padded <see cref="Images"/>, on their device.</summary>
    public Tensor ValidSizes() =>
        tensor(Transforms.SelectMany(t => new float[] { t.InputHeight, t.InputWidth }).ToArray(), device: Images.device).reshape(Size, 2);

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
        int?[] shortSides = Options.ShortSides is { Count: > 0 } sides ? order.Select(_ => (int?)sides[rng.Next(sides.Count)]).ToArray() : new int?[order.Length];
        for (int start = 0; start < order.Length; start += Options.BatchSize)
        {
            int count = Math.Min(Options.BatchSize, order.Length - start);
            if (count < Options.BatchSize && Options.DropLast) yield break;
            yield return CollateNamed(Enumerable.Range(start, count).Select(i => (Dataset.Entries[order[i]], flips[i])).ToList(), shortSides[start..(start + count)]);
        }
    }

    /// <summary><see cref="Collate"/>, a failure naming the data set and the batch's image files.</summary>
    private DetectionBatch CollateNamed(IReadOnlyList<(DetectionEntry Entry, bool Flip)> items, IReadOnlyList<int?> shortSides)
    {
        try
        {
            return Collate(items, shortSides);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"{Dataset.Name}: preparing the batch of {string.Join(", ", items.Select(i => i.Entry.FileName))}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Stacks entries (resized, maybe flipped) into one batch, padded right and bottom with zeros to the largest image
    /// rounded up to <see cref="LoaderOptions.PadDivisor"/>; <paramref name="shortSides"/> are the multi-scale draws.
    /// </summary>
    public DetectionBatch Collate(IReadOnlyList<(DetectionEntry Entry, bool Flip)> items, IReadOnlyList<int?>? shortSides = null)
    {
        int b = items.Count;
        var sizes = items.Select((item, i) => Options.InputSizeOf(item.Entry.Width, item.Entry.Height, shortSides?[i])).ToArray();
        int w = PaddedUp(sizes.Max(s => s.Width), Options.PadDivisor), h = PaddedUp(sizes.Max(s => s.Height), Options.PadDivisor);
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
            var (iw, ih) = sizes[i];
            var t = transforms[i] = new ImageTransform(entry.ImageId, entry.Width, entry.Height, (float)iw / entry.Width, (float)ih / entry.Height, flip, iw, ih);
            images[i] = PadTo(ResizeAndFlip(entry.Image, iw, ih, flip), h, w, Options.PadColour);
            for (int j = 0; j < entry.Boxes.Count; j++)
            {
                Write(boxes, (i * g + j) * 4, t.ToInput(entry.Boxes[j]));
                labels[i * g + j] = entry.Labels[j];
                mask[i * g + j] = true;
            }
            for (int j = 0; j < entry.CrowdBoxes.Count; j++)
            {
                Write(crowd, (i * gc + j) * 4, t.ToInput(entry.CrowdBoxes[j]));
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

    /// <summary><c>[3, h, w]</c>: the image at the top left, <paramref name="colour"/> (RGB in [0, 1]; null = black) right and
    /// below (the image itself when it fills it).</summary>
    private static Tensor PadTo(Tensor pixels, int h, int w, IReadOnlyList<float>? colour)
    {
        if (pixels.shape[1] == h && pixels.shape[2] == w) return pixels;
        if (colour is null) return nn.functional.pad(pixels, [0, w - pixels.shape[2], 0, h - pixels.shape[1]]);
        var canvas = tensor(colour.ToArray()).view(3, 1, 1).expand(3, h, w).clone();
        canvas.narrow(1, 0, pixels.shape[1]).narrow(2, 0, pixels.shape[2]).copy_(pixels);
        return canvas;
    }

    /// <summary><paramref name="size"/> rounded up to a multiple of <paramref name="divisor"/>.</summary>
    internal static int PaddedUp(int size, int divisor) => (size + divisor - 1) / divisor * divisor;

    private static void Write(float[] target, int offset, BoxXyxy box) =>
        (target[offset], target[offset + 1], target[offset + 2], target[offset + 3]) = (box.X1, box.Y1, box.X2, box.Y2);

    private static int HashCode32(int seed, int epoch) => (int)((uint)seed * 2654435761u ^ (uint)epoch * 40503u);
}
