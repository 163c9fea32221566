using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

/// <summary>
/// RoIAlign against hand-computed bilinear samples on a 3×3 map f(y, x) = 2^(3y + x) — not linear, so a wrong neighbour
/// or a swapped weight shows:
/// <code>
///   row 0:  1    2    4
///   row 1:  8   16   32
///   row 2: 64  128  256
/// </code>
/// aligned=True: an RoI edge e maps to e·scale − 0.5; bin i of P over [s, s + L) samples at s + i·L/P + (k + 0.5)·L/(P·g).
/// </summary>
public class RoIAlignTests
{
    private static Tensor Map(float factor = 1) =>
        tensor(new float[] { 1, 2, 4, 8, 16, 32, 64, 128, 256 }).reshape(1, 1, 3, 3) * factor;

    /// <summary>Both implementations: the CPU kernel (Auto on float32 CPU tensors) and the tensor path devices use.</summary>
    public static TheoryData<RoIAlignPath> Paths => [RoIAlignPath.Auto, RoIAlignPath.Tensor];

    private static float[] Pool(RoIAlignPath path, Tensor features, float[] roi, int outputSize, int samplingRatio, double scale = 1) =>
        new RoIAlign(outputSize, scale, samplingRatio) { Path = path }.Apply(features, tensor(roi).reshape(1, 1, 4)).data<float>().ToArray();

    [Theory, MemberData(nameof(Paths))]
    public void One_sample_between_four_cells_is_their_average(RoIAlignPath path)
    {
        // RoI x, y in [0.5, 1.5) → [0, 1) after the shift; one bin, one sample at (0.5, 0.5): (1 + 2 + 8 + 16) / 4.
        Assert.Equal([6.75f], Pool(path, Map(), [0.5f, 0.5f, 1.5f, 1.5f], outputSize: 1, samplingRatio: 1));
    }

    [Theory, MemberData(nameof(Paths))]
    public void Unequal_bilinear_weights_follow_the_distances(RoIAlignPath path)
    {
        // x in [1.75, 2.75) → [1.25, 2.25), sample x = 1.75: cells 1, 2 weigh 0.25, 0.75.
        // y in [0.25, 1.25) → [-0.25, 0.75), sample y = 0.25: rows 0, 1 weigh 0.75, 0.25.
        // 0.75·0.25·2 + 0.75·0.75·4 + 0.25·0.25·16 + 0.25·0.75·32 = 0.375 + 2.25 + 1 + 6 = 9.625.
        Assert.Equal([9.625f], Pool(path, Map(), [1.75f, 0.25f, 2.75f, 1.25f], 1, 1));
    }

    [Theory, MemberData(nameof(Paths))]
    public void Bins_tile_the_roi_in_row_major_order(RoIAlignPath path)
    {
        // [0.5, 2.5) → [0, 2): 2×2 bins of 1, samples at 0.5 and 1.5:
        // (0.5, 0.5) = (1+2+8+16)/4 = 6.75      (y 0.5, x 1.5) = (2+4+16+32)/4 = 13.5
        // (1.5, 0.5) = (8+16+64+128)/4 = 54     (1.5, 1.5) = (16+32+128+256)/4 = 108
        Assert.Equal([6.75f, 13.5f, 54f, 108f], Pool(path, Map(), [0.5f, 0.5f, 2.5f, 2.5f], 2, 1));
    }

    [Theory, MemberData(nameof(Paths))]
    public void The_spatial_scale_maps_input_pixels_to_feature_cells(RoIAlignPath path)
    {
        // [1, 5) at scale 1/2 is [0.5, 2.5) on the map: the previous case again.
        Assert.Equal([6.75f, 13.5f, 54f, 108f], Pool(path, Map(), [1, 1, 5, 5], 2, 1, scale: 0.5));
    }

    [Theory, MemberData(nameof(Paths))]
    public void Samples_near_the_border_clamp_and_samples_beyond_it_are_zero(RoIAlignPath path)
    {
        // Two samples per axis at start + 0.25·L and start + 0.75·L.
        // y in [-1.5, 4.5) → [-2, 4): samples at -0.5 (≥ -1: clamps to row 0) and 2.5 (floor ≥ H - 1: row 2 alone).
        // x in [0.75, 1.75) → [0.25, 1.25): samples at 0.5 (cells 0, 1 halves) and 1.0 (cell 1 exactly).
        // (row 0: 1.5, 2; row 2: 96, 128) → (1.5 + 2 + 96 + 128) / 4 = 56.875.
        Assert.Equal([56.875f], Pool(path, Map(), [0.75f, -1.5f, 1.75f, 4.5f], 1, 2));
        // y in [-2.25, 2.75) → [-2.75, 2.25): samples at -1.5 (< -1: zero) and 1.0 (row 1).
        // x in [0, 2) → [-0.5, 1.5): samples at 0 and 1 → cells 0 and 1 exactly.
        // (0 + 0 + 8 + 16) / 4 = 6: the zero samples still count in the average.
        Assert.Equal([6f], Pool(path, Map(), [0, -2.25f, 2, 2.75f], 1, 2));
    }

    [Theory, MemberData(nameof(Paths))]
    public void Each_image_pools_from_its_own_map_and_channels_stay_apart(RoIAlignPath path)
    {
        var features = cat([Map(), Map(10)], 0);                                   // [2, 1, 3, 3]
        features = cat([features, features * 2], 1);                                // [2, 2, 3, 3]
        var rois = tensor(new float[] { 0.5f, 0.5f, 1.5f, 1.5f, 1.75f, 0.25f, 2.75f, 1.25f }).reshape(1, 2, 4).expand(2, 2, 4).contiguous();
        var pooled = new RoIAlign(1, 1, 1) { Path = path }.Apply(features, rois);
        Assert.Equal([2L, 2, 2, 1, 1], pooled.shape);
        // [image, roi, channel]: image 2 is ten times image 1, channel 2 twice channel 1.
        Assert.Equal([6.75f, 13.5f, 9.625f, 19.25f, 67.5f, 135f, 96.25f, 192.5f], pooled.data<float>().ToArray());
    }

    [Theory, MemberData(nameof(Paths))]
    public void Gradients_reach_the_features_with_the_bilinear_weights(RoIAlignPath path)
    {
        // Every sample of [0.5, 2.5)² lies inside, so each bin's weights sum to 1: d(Σ output)/dF sums to 4 bins.
        // The (0.5, 0.5) bin alone puts 1/4 on each of cells (0,0), (0,1), (1,0), (1,1).
        var features = Map().requires_grad_(true);
        var pooled = new RoIAlign(2, 1, 1) { Path = path }.Apply(features, tensor(new float[] { 0.5f, 0.5f, 2.5f, 2.5f }).reshape(1, 1, 4));
        pooled[0, 0, 0, 0, 0].backward();
        Assert.Equal([0.25f, 0.25f, 0, 0.25f, 0.25f, 0, 0, 0, 0], features.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Rois_read_the_pyramid_level_their_scale_maps_to()
    {
        // finestScale 32: level = floor(log2(√(w·h) / 32)), clamped to [0, 1].
        // 10 px → log2(0.31) < 0 → 0;  40 px → log2(1.25) = 0.32 → 0;  64 px → log2(2) = 1 → 1;  200 px → 2.6 → clamped 1.
        var extractor = new MultiLevelRoIExtractor([8, 16], finestScale: 32);
        var rois = tensor(new float[] { 0, 0, 10, 10, 0, 0, 40, 40, 0, 0, 64, 64, 0, 0, 200, 200 }).reshape(1, 4, 4);
        Assert.Equal([0L, 0, 1, 1], extractor.LevelOf(rois).data<long>().ToArray());
    }

    [Theory, MemberData(nameof(Paths))]
    public void The_multi_level_extractor_pools_each_roi_from_its_level_only(RoIAlignPath path)
    {
        // Level 0 is all ones, level 1 all twos: a small RoI reads 1s, a large one 2s.
        var levels = new[] { ones(1, 1, 16, 16), full(1, 1, 8, 8, 2f) };
        var rois = tensor(new float[] { 8, 8, 24, 24, 0, 0, 100, 100 }).reshape(1, 2, 4);
        var pooled = new MultiLevelRoIExtractor([8, 16], outputSize: 2, finestScale: 32) { Path = path }.Apply(levels, rois);
        Assert.Equal([1f, 1, 1, 1, 2, 2, 2, 2], pooled.data<float>().ToArray());
    }
}
