using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// RoIAlign over a feature pyramid in one pass: every RoI reads only its own level, from one channels-last table of
/// all levels' cells. Along each axis a sample has two neighbours (<see cref="AxisTaps"/>), so a bin averages
/// 4·s² table rows with weights <c>w_y · w_x / s²</c>. The CPU kernel (<see cref="RoIAlignCpuKernel"/>) walks these taps
/// with SIMD over channels; the tensor path gathers them, for any device and without host synchronisation.
/// </summary>
public static class PyramidRoIAlign
{
    /// <summary>
    /// Levels <c>[B, C, H_l, W_l]</c> with their scales (1 / stride), RoIs <c>[B, R, 4]</c> (x1y1x2y2, input pixels)
    /// and the level each reads, int64 <c>[B, R]</c> → <c>[B, R, C, P, P]</c>.
    /// </summary>
    /// <param name="known">optional outputs <c>[B, R, C, P, P]</c> already pooled without gradient (by the box-head probe)
    /// for the RoIs where <paramref name="knownMask"/> <c>[B, R]</c> is set: the CPU kernel copies them instead of pooling
    /// again (pooling is deterministic per RoI, so the result is the same); the gradient flows as without them.</param>
    public static Tensor Pool(IReadOnlyList<Tensor> levels, IReadOnlyList<double> scales, Tensor rois, Tensor level,
        int outputSize, int samplingRatio, RoIAlignPath path = RoIAlignPath.Auto, Tensor? known = null, Tensor? knownMask = null)
    {
        using var scope = NewDisposeScope();
        var table = FeatureTable.Of(levels, scales);
        bool cpuKernel = path == RoIAlignPath.Auto && table.Rows.device_type == DeviceType.CPU && table.Rows.dtype == ScalarType.Float32;
        var pooled = cpuKernel
            ? RoIAlignCpuKernel.Pool(table, rois, level, outputSize, samplingRatio, known, knownMask)
            : PoolByGather(table, rois, level, outputSize, samplingRatio).permute(0, 1, 4, 2, 3);
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The tensor path: table rows <c>[N, C]</c>, RoIs <c>[B, R, 4]</c>, levels <c>[B, R]</c> → <c>[B, R, P, P, C]</c>,
    /// by one gather of the <c>B·R·P²·4s²</c> taps and a weighted sum over each bin's taps.
    /// </summary>
    internal static Tensor PoolByGather(FeatureTable table, Tensor rois, Tensor level, int p, int s)
    {
        using var scope = NewDisposeScope();
        var rows = table.Rows;
        long b = rois.shape[0], r = rois.shape[1], c = rows.shape[1];
        var device = rows.device;
        Tensor PerRoi(double[] values, ScalarType dtype) => tensor(values, dtype: dtype, device: device).index_select(0, level.flatten()).reshape(b, r);
        var scale = PerRoi(table.Scales, rows.dtype);
        var height = PerRoi(table.Heights.Select(v => (double)v).ToArray(), rows.dtype);
        var width = PerRoi(table.Widths.Select(v => (double)v).ToArray(), rows.dtype);
        var cells = PerRoi(table.Heights.Zip(table.Widths, (h, w) => (double)(h * w)).ToArray(), ScalarType.Int64);
        var firstRow = PerRoi(table.Offsets.Select(v => (double)v).ToArray(), ScalarType.Int64)
                     + arange(b, ScalarType.Int64, device).unsqueeze(1) * cells; // [B, R]: the RoI's image at its level

        var scaled = rois.to(rows.dtype) * scale.unsqueeze(-1) - 0.5;
        var (yIndex, yWeight) = AxisTaps(scaled[.., .., 1], scaled[.., .., 3], height, p, s); // [B, R, P, 2s]
        var (xIndex, xWeight) = AxisTaps(scaled[.., .., 0], scaled[.., .., 2], width, p, s);
        // Tap (y, x) of bin (i, j): [B, R, P(i), P(j), 2s(y), 2s(x)] → [B, R, P, P, 4s²].
        var index = firstRow.reshape(b, r, 1, 1, 1, 1)
                  + (yIndex * width.to(ScalarType.Int64).unsqueeze(-1).unsqueeze(-1)).reshape(b, r, p, 1, 2 * s, 1)
                  + xIndex.reshape(b, r, 1, p, 1, 2 * s);
        var weight = yWeight.reshape(b, r, p, 1, 2 * s, 1) * xWeight.reshape(b, r, 1, p, 1, 2 * s) / (s * s);
        var taps = rows.index_select(0, index.reshape(-1)).reshape(b, r, p, p, 4 * s * s, c);
        return (taps * weight.reshape(b, r, p, p, 4 * s * s, 1)).sum(4).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Along one axis, RoI extents [start, end) (feature cells, already shifted by -0.5) on a level of
    /// <paramref name="size"/> cells (all <c>[B, R]</c>): for bin i and sample k, the two neighbouring cells
    /// (low, high) and their bilinear weights, both <c>[B, R, P, 2s]</c> ordered (k, low/high). Samples beyond the
    /// border weigh 0; those before the first cell or after the last use that cell alone, as the reference kernels do.
    /// </summary>
    internal static (Tensor Index, Tensor Weight) AxisTaps(Tensor start, Tensor end, Tensor size, int p, int s)
    {
        using var scope = NewDisposeScope();
        var dtype = start.dtype;
        var binSize = ((end - start) / p).unsqueeze(-1); // [B, R, 1]
        var bin = arange(p, dtype: dtype, device: start.device).repeat_interleave(s);       // i of each sample, [P·s]
        var sub = arange(s, dtype: dtype, device: start.device).repeat(p) + 0.5;           // k + 0.5
        // The reference's order of operations: start + i·bin + (k + 0.5)·bin / s.
        var at = start.unsqueeze(-1) + bin * binSize + sub * binSize / s; // [B, R, P·s]
        var last = (size - 1).unsqueeze(-1);
        var inside = (at >= -1.0).logical_and(at <= size.unsqueeze(-1)).to(dtype);
        var clamped = at.clamp_min(0).minimum(last);
        var low = clamped.floor();
        var high = (low + 1).minimum(last);
        var fraction = clamped - low;
        var index = stack([low, high], -1).to(ScalarType.Int64);
        var weight = stack([(1 - fraction) * inside, fraction * inside], -1);
        long b = start.shape[0], r = start.shape[1];
        return (index.reshape(b, r, p, 2 * s).MoveToOuterDisposeScope(), weight.reshape(b, r, p, 2 * s).MoveToOuterDisposeScope());
    }
}

/// <summary>
/// All pyramid levels' cells as the rows of one channels-last table <c>[Σ_l B·H_l·W_l, C]</c>: cell (y, x) of image b
/// at level l is row <c>Offsets[l] + (b·H_l + y)·W_l + x</c>, its C channels contiguous.
/// </summary>
public sealed record FeatureTable(Tensor Rows, long Batch, long[] Heights, long[] Widths, long[] Offsets, double[] Scales)
{
    /// <summary>Levels <c>[B, C, H_l, W_l]</c> and their scales → the table (differentiable in the levels).</summary>
    public static FeatureTable Of(IReadOnlyList<Tensor> levels, IReadOnlyList<double> scales)
    {
        if (levels.Count != scales.Count) throw new ArgumentException($"{levels.Count} feature levels for {scales.Count} scales");
        long batch = levels[0].shape[0], channels = levels[0].shape[1];
        var offsets = new long[levels.Count];
        for (int l = 1; l < levels.Count; l++) offsets[l] = offsets[l - 1] + batch * levels[l - 1].shape[2] * levels[l - 1].shape[3];
        var rows = levels.Count == 1
            ? ChannelsLast(levels[0], channels)
            : cat(levels.Select(level => ChannelsLast(level, channels)).ToArray(), 0);
        return new FeatureTable(rows, batch, levels.Select(l => l.shape[2]).ToArray(), levels.Select(l => l.shape[3]).ToArray(), offsets, scales.ToArray());
    }

    private static Tensor ChannelsLast(Tensor level, long channels) => level.permute(0, 2, 3, 1).reshape(-1, channels);
}
