using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// Anchors for a list of feature levels. At each location of level l, one anchor per (ratio, size) pair, ratio outer:
/// size s and ratio r = h/w give <c>w = s / √r, h = s · √r</c>, centred on the cell centre
/// <c>((x + 0.5)·stride, (y + 0.5)·stride)</c> (mmdetection 2.x centres on <c>x·stride</c>; the half-cell shift keeps
/// anchors symmetric in the image). Order: level, then row y, column x, then anchor — the order in which
/// <see cref="HeadOutputs.Flatten"/> lays out head outputs.
/// </summary>
public sealed class AnchorGenerator
{
    public AnchorGenerator(IReadOnlyList<int> strides, IReadOnlyList<IReadOnlyList<double>> sizesPerLevel, IReadOnlyList<double> ratios)
    {
        if (strides.Count != sizesPerLevel.Count) throw new ArgumentException($"{strides.Count} strides but {sizesPerLevel.Count} size lists");
        if (sizesPerLevel.Select(s => s.Count).Distinct().Count() != 1)
            throw new ArgumentException("every level needs the same number of sizes, so heads are shared across levels");
        (Strides, SizesPerLevel, Ratios) = (strides, sizesPerLevel, ratios);
    }

    /// <summary>
    /// Anchors for 128 px inputs with objects of 4-90 px, ratios 1:2, 1:1, 2:1 and sizes a factor 2 apart (so a square
    /// object centred on a cell has an anchor with IoU ≥ 0.5): 8, 16 at stride 4 and 32, 64 at stride 8; or 10, 20 at
    /// stride 8 and 40, 80 at stride 16; with a single stride-16 level, 10, 20, 40 and 80 all sit on it.
    /// </summary>
    public static AnchorGenerator ForSmallImages(IReadOnlyList<int> strides) => strides switch
    {
        [4, 8] => new AnchorGenerator(strides, [[8, 16], [32, 64]], [0.5, 1, 2]),
        [8, 16] => new AnchorGenerator(strides, [[10, 20], [40, 80]], [0.5, 1, 2]),
        [16] => new AnchorGenerator(strides, [[10, 20, 40, 80]], [0.5, 1, 2]),
        _ => throw new ArgumentException($"no default anchors for strides {string.Join(", ", strides)}"),
    };

    /// <summary>
    /// mmdetection's two-stage RPN anchors (<c>faster_rcnn_r50_fpn</c>: <c>scales=[8]</c>, <c>ratios=[0.5, 1.0, 2.0]</c>):
    /// one size, 8 × stride, per level (32 px at stride 4 … 512 px at stride 64).
    /// </summary>
    public static AnchorGenerator MmdetTwoStage(IReadOnlyList<int> strides) =>
        new(strides, strides.Select(s => (IReadOnlyList<double>)[8.0 * s]).ToList(), [0.5, 1, 2]);

    /// <summary>
    /// mmdetection's RetinaNet anchors (<c>octave_base_scale=4</c>, <c>scales_per_octave=3</c>, <c>ratios=[0.5, 1.0, 2.0]</c>):
    /// sizes 4 × stride × 2^(i/3), i = 0, 1, 2, per level (32, 40.3, 50.8 px at stride 8).
    /// </summary>
    public static AnchorGenerator MmdetRetinaNet(IReadOnlyList<int> strides) =>
        new(strides, strides.Select(s => (IReadOnlyList<double>)Enumerable.Range(0, 3).Select(i => 4.0 * s * Math.Pow(2, i / 3.0)).ToArray()).ToList(), [0.5, 1, 2]);

    public IReadOnlyList<int> Strides { get; }
    public IReadOnlyList<IReadOnlyList<double>> SizesPerLevel { get; }
    public IReadOnlyList<double> Ratios { get; }

    /// <summary>A, the anchors at each location (the same on every level).</summary>
    public int AnchorsPerLocation => Ratios.Count * SizesPerLevel[0].Count;

    /// <summary>float32 <c>[N, 4]</c> x1y1x2y2, N = Σ_l H_l·W_l·A, for feature levels of the given sizes.</summary>
    public Tensor Generate(IReadOnlyList<(int Height, int Width)> featureSizes, Device? device = null)
    {
        if (featureSizes.Count != Strides.Count) throw new ArgumentException($"{featureSizes.Count} feature levels for {Strides.Count} strides");
        using var scope = NewDisposeScope();
        var levels = new Tensor[Strides.Count];
        for (int l = 0; l < Strides.Count; l++)
            levels[l] = LevelAnchors(Strides[l], SizesPerLevel[l], featureSizes[l].Height, featureSizes[l].Width);
        return cat(levels, 0).to(device ?? CPU).MoveToOuterDisposeScope();
    }

    /// <summary>The anchors for feature maps of a <paramref name="height"/> × <paramref name="width"/> input (sizes rounded up per stride).</summary>
    public Tensor ForImage(int height, int width, Device? device = null) =>
        Generate(Strides.Select(s => ((height + s - 1) / s, (width + s - 1) / s)).ToList(), device);

    private Tensor LevelAnchors(int stride, IReadOnlyList<double> sizes, int height, int width)
    {
        // [A, 4] half-extents around a centre, ratio outer.
        var offsets = new List<float>();
        foreach (double ratio in Ratios)
            foreach (double size in sizes)
            {
                float halfW = (float)(size / Math.Sqrt(ratio) / 2), halfH = (float)(size * Math.Sqrt(ratio) / 2);
                offsets.AddRange([-halfW, -halfH, halfW, halfH]);
            }
        var baseAnchors = tensor(offsets.ToArray()).reshape(-1, 4);
        var xs = (arange(width, dtype: ScalarType.Float32) + 0.5f) * stride;
        var ys = (arange(height, dtype: ScalarType.Float32) + 0.5f) * stride;
        var grid = meshgrid([ys, xs], indexing: "ij");
        var centres = stack([grid[1], grid[0], grid[1], grid[0]], -1).reshape(-1, 1, 4); // [H·W, 1, 4]
        return (centres + baseAnchors.unsqueeze(0)).reshape(-1, 4);
    }
}
