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
    public sealed record Thresholds(double PosIou, double NegIou, double MinPosIou, bool MatchLowQuality, bool GtMaxAssignAll = true)
    {
        /// <summary>The two-stage R-CNN head's default: 0.5 / 0.5 / 0.5, no low-quality matching.</summary>
        public static Thresholds RcnnDefault { get; } = new(0.5, 0.5, 0.5, false);

        /// <summary>The RPN default: 0.7 / 0.3 / 0.3 with low-quality matching.</summary>
        public static Thresholds RpnDefault { get; } = new(0.7, 0.3, 0.3, true);
    }

    /// <summary>Assigns every candidate to a gt, to the background, or to nothing.</summary>
    /// <param name="overlaps">[B, G, N] IoU of every gt with every candidate (from <see cref="Boxes.Overlaps"/>).</param>
    /// <param name="gtLabels">[B, G] int64.</param>
    /// <param name="gtMask">[B, G] bool: which gt slots are real.</param>
    /// <param name="candidateMask">[B, N] bool: which candidate slots are real.</param>
    public static AssignResult MaxIou(Tensor overlaps, Tensor gtLabels, Tensor gtMask, Tensor candidateMask, Thresholds t)
    {
        using var scope = NewDisposeScope();
        long g = overlaps.shape[1];
        if (g == 0) return NoGts(overlaps, candidateMask);
        // Padding gts overlap -1 so they never win a max (one broadcast fill of the [B, G, N] matrix); padding candidates
        // are masked after the reduction, on [B, N]: max IoU -1 is neither negative nor positive, so they stay ignored.
        var masked = where(gtMask.unsqueeze(-1), overlaps, -1.0);

        // torch.max returns the first maximal index: a tie goes to the lower gt, as the reference's argmax.
        var (maxOverlaps, argmaxGt) = masked.max(1);
        maxOverlaps.masked_fill_(~candidateMask, -1.0);

        var gtInds = full_like(maxOverlaps, -1L, ScalarType.Int64);
        gtInds.masked_fill_((maxOverlaps >= 0) & (maxOverlaps < t.NegIou), 0L);
        gtInds = where(maxOverlaps >= t.PosIou, argmaxGt.add_(1), gtInds);

        if (t.MatchLowQuality)
        {
            // A real pair's IoU is >= 0, so "masked >= 0" is the pair mask once padding candidates are filled too.
            masked.masked_fill_(~candidateMask.unsqueeze(-2), -1.0);
            var gtMax = masked.amax([2], keepdim: true);
            var claims = (masked == gtMax) & (gtMax >= t.MinPosIou) & (masked >= 0);
            if (!t.GtMaxAssignAll)
            {
                long n = overlaps.shape[2];
                var firstBest = FirstIndexOf(masked, gtMax, dim: 2).unsqueeze(-1);
                claims &= arange(n, int64, overlaps.device) == firstBest;
            }
            // Gt by gt in index order, a later gt overwriting: the highest claiming gt index wins.
            var oneBased = arange(1, g + 1, int64, overlaps.device).view(1, g, 1);
            var winner = where(claims, oneBased, zeros_like(oneBased)).amax([1]);
            gtInds = where(winner > 0, winner, gtInds);
        }

        // No gts at all: every real candidate is a negative with max IoU 0 (padding stays ignored).
        var noGt = ~gtMask.any(1, keepdim: true);
        gtInds.masked_fill_(noGt & candidateMask, 0L);
        maxOverlaps.clamp_min_(0);

        var labels = gtLabels.gather(1, (gtInds - 1).clamp_min_(0)).masked_fill_(gtInds <= 0, -1L);
        return new AssignResult(gtInds.MoveToOuterDisposeScope(), maxOverlaps.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>No gt slots at all (a static shape): every real candidate is negative with max IoU 0.</summary>
    private static AssignResult NoGts(Tensor overlaps, Tensor candidateMask)
    {
        var gtInds = where(candidateMask, zeros_like(candidateMask, ScalarType.Int64), full_like(candidateMask, -1L, ScalarType.Int64));
        var maxOverlaps = zeros(candidateMask.shape, overlaps.dtype, overlaps.device);
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
