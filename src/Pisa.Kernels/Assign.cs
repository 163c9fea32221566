using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>What max-IoU assignment decided for every candidate of a padded batch.</summary>
/// <param name="GtInds">[B, N] int64: 0 negative, -1 ignored (padding too), k &gt; 0 the 1-based gt of the image.</param>
/// <param name="MaxOverlaps">[B, N] float: the best IoU with any gt of the image (0 with no gts or for padding).</param>
/// <param name="Labels">[B, N] int64: the assigned gt's class, -1 where not positive.</param>
public sealed record AssignResult(Tensor GtInds, Tensor MaxOverlaps, Tensor Labels);

/// <summary>Max-IoU assignment (ALGORITHMS.md, "Assignment"), for a whole padded batch at once.</summary>
public static class Assign
{
    /// <summary>Thresholds of a max-IoU assigner.</summary>
    public sealed record Thresholds(double PosIoU, double NegIoU, double MinPosIoU, bool MatchLowQuality, bool GtMaxAssignAll = true)
    {
        /// <summary>The two-stage R-CNN head's default: 0.5 / 0.5 / 0.5, no low-quality matching.</summary>
        public static Thresholds RcnnDefault { get; } = new(0.5, 0.5, 0.5, false);

        /// <summary>The RPN default: 0.7 / 0.3 / 0.3 with low-quality matching.</summary>
        public static Thresholds RpnDefault { get; } = new(0.7, 0.3, 0.3, true);
    }

    /// <summary>
    /// Candidates per tile of the pairwise work, as a number of IoU-matrix elements: a <c>[B, G, tile]</c> matrix of about
    /// 1 MiB stays in cache for the passes over it (fill, max, claims), where a full <c>[B, G, N]</c> matrix of tens of
    /// MiB would make every pass a trip to memory (about 1.8x slower at 64k candidates per image). Memory stays bounded
    /// by the tile too, unless low-quality matching needs the tiles kept for its second pass.
    /// </summary>
    private const long TileElements = 1 << 18;

    /// <summary>Assigns every candidate to a gt, to the background, or to nothing.</summary>
    /// <param name="gtBoxes">[B, G, 4].</param>
    /// <param name="boxes">[B, N, 4] the candidates.</param>
    /// <param name="gtLabels">[B, G] int64.</param>
    /// <param name="gtMask">[B, G] bool: which gt slots are real.</param>
    /// <param name="candidateMask">[B, N] bool: which candidate slots are real.</param>
    public static AssignResult MaxIoU(Tensor gtBoxes, Tensor boxes, Tensor gtLabels, Tensor gtMask, Tensor candidateMask, Thresholds t)
    {
        using var scope = NewDisposeScope();
        long b = boxes.shape[0], g = gtBoxes.shape[1], n = boxes.shape[1];
        if (g == 0) return NoGts(boxes.dtype, candidateMask);
        if (gtBoxes.dtype != boxes.dtype) gtBoxes = gtBoxes.to(boxes.dtype);

        // Pass 1, one tile of candidates at a time (a loop over tiles of the pairwise work, not over images or gts): each
        // candidate's best gt. Padding gts overlap -1 so they never win a max, and an image without gts has a max of -1.
        // torch.max returns the first maximal index: a tie goes to the lower gt, as the reference's argmax.
        long tile = Math.Max(1024, TileElements / Math.Max(1, b * g));
        var maxParts = new List<Tensor>();
        var argmaxParts = new List<Tensor>();
        var tiles = new List<(long Start, Tensor Masked)>();
        var paddingGt = (~gtMask).unsqueeze(-1);
        for (long start = 0; start == 0 || start < n; start += tile) // at least one (possibly empty) tile: the shapes stay [B, N]
        {
            bool whole = start == 0 && tile >= n;
            var columns = TensorIndex.Slice(start, Math.Min(n, start + tile));
            var masked = Boxes.Overlaps(gtBoxes, whole ? boxes : boxes[TensorIndex.Colon, columns]).masked_fill_(paddingGt, -1.0);
            var (maxOverlapsOfTile, argmaxOfTile) = masked.max(1);
            maxParts.Add(maxOverlapsOfTile);
            argmaxParts.Add(argmaxOfTile);
            if (t.MatchLowQuality)
                tiles.Add((start, masked.masked_fill_(~candidateMask[TensorIndex.Colon, columns].unsqueeze(-2), -1.0)));
            else
                masked.Dispose(); // the next tile reuses the memory: without low-quality matching nothing N x G stays alive
        }
        // Padding candidates get -2, below an image without gts (-1): neither negative nor positive, so they stay ignored.
        var maxOverlaps = where(candidateMask, Join(maxParts), -2.0);
        var argmaxGt = Join(argmaxParts);

        // Positive at IoU >= pos; negative below min(neg, pos) for a real candidate (every real candidate of an image
        // without gts, whose max is -1); ignored otherwise (between the thresholds, padding, NaN).
        var positive = maxOverlaps >= t.PosIoU;
        var labels = t.MatchLowQuality ? null : where(positive, gtLabels.gather(1, argmaxGt), -1L);
        var gtInds = where(positive, argmaxGt.add_(1), -1L);
        gtInds.masked_fill_((maxOverlaps < Math.Min(t.NegIoU, t.PosIoU)) & (maxOverlaps > -1.5), 0L);
        if (t.MatchLowQuality && n > 0) gtInds = LowQualityMatches(tiles, n, g, gtInds, t); // no candidates: nothing to claim
        maxOverlaps.clamp_min_(0);

        labels ??= gtLabels.gather(1, (gtInds - 1).clamp_min_(0)).masked_fill_(gtInds <= 0, -1L);
        return new AssignResult(gtInds.MoveToOuterDisposeScope(), maxOverlaps.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Pass 2 of low-quality matching: every gt whose best IoU (over all real candidates) reaches <c>min_pos_iou</c> claims
    /// the candidates at that IoU (only the first of them unless <c>gt_max_assign_all</c>); gt by gt in index order, a
    /// later gt overwriting, so the highest claiming gt index wins.
    /// </summary>
    /// <param name="tiles">pass 1's masked <c>[B, G, tile]</c> matrices (padding pairs -1) and where each starts.</param>
    private static Tensor LowQualityMatches(List<(long Start, Tensor Masked)> tiles, long n, long g, Tensor gtInds, Thresholds t)
    {
        using var scope = NewDisposeScope();
        var device = gtInds.device;
        var gtMax = stack(tiles.Select(x => x.Masked.amax([2])).ToList(), -1).amax([-1]).unsqueeze(-1); // [B, G, 1]
        Tensor? firstBest = null;
        if (!t.GtMaxAssignAll)
        {
            // The first candidate at the gt's best IoU over the whole image: the smallest index any tile finds (n = none).
            var firstOfTiles = tiles.Select(x =>
            {
                var first = FirstIndexOf(x.Masked, gtMax, dim: 2); // the tile's size where the tile has none
                return where(first < x.Masked.shape[2], first + x.Start, n);
            });
            firstBest = stack(firstOfTiles.ToList(), -1).amin([-1]).unsqueeze(-1);
        }
        var oneBased = arange(1, g + 1, int64, device).view(1, g, 1);
        var winners = tiles.Select(x =>
        {
            // A real pair's IoU is >= 0, so "masked >= 0" is the pair mask (padding gts and candidates are -1).
            var claims = (x.Masked == gtMax) & (gtMax >= t.MinPosIoU) & (x.Masked >= 0);
            if (firstBest is not null) claims &= arange(x.Start, x.Start + x.Masked.shape[2], int64, device) == firstBest;
            return where(claims, oneBased, zeros_like(oneBased)).amax([1]);
        });
        var winner = Join(winners.ToList());
        return where(winner > 0, winner, gtInds).MoveToOuterDisposeScope();
    }

    /// <summary>Tiles joined along the candidate dimension (one tile: itself, no copy).</summary>
    private static Tensor Join(List<Tensor> parts) => parts.Count == 1 ? parts[0] : cat(parts, 1);

    /// <summary>No gt slots at all (a static shape): every real candidate is negative with max IoU 0.</summary>
    private static AssignResult NoGts(ScalarType dtype, Tensor candidateMask)
    {
        var gtInds = where(candidateMask, zeros_like(candidateMask, ScalarType.Int64), full_like(candidateMask, -1L, ScalarType.Int64));
        var maxOverlaps = zeros(candidateMask.shape, dtype, candidateMask.device);
        return new AssignResult(gtInds.MoveToOuterDisposeScope(), maxOverlaps.MoveToOuterDisposeScope(),
            full_like(gtInds, -1L).MoveToOuterDisposeScope());
    }

    /// <summary>The lowest index along <paramref name="dim"/> where <paramref name="values"/> equals <paramref name="max"/> (ties to the lower index).</summary>
    private static Tensor FirstIndexOf(Tensor values, Tensor max, long dim)
    {
        using var scope = NewDisposeScope();
        long size = values.shape[dim];
        var shape = new long[values.dim()];
        Array.Fill(shape, 1L);
        shape[dim] = size;
        var index = arange(size, int64, values.device).view(shape);
        return where(values == max, index, full_like(index, size)).amin([dim]).MoveToOuterDisposeScope();
    }
}
