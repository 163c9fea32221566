using Pisa.Kernels.Host;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>Score-ordered greedy grouping: every box's group (0 = the best-scored group) and its position inside it.</summary>
/// <param name="Group">[B, N] int64 group number inside the image, in opener-score order; -1 for boxes left out.</param>
/// <param name="PositionInGroup">[B, N] int64, 0 for the opener, then members in score order; -1 for boxes left out.</param>
public sealed record NmsMatchResult(Tensor Group, Tensor PositionInGroup);

/// <summary>
/// Exact greedy NMS and <c>nms_match</c> (ALGORITHMS.md, Score-HLR), batched over padded images.
/// <para>
/// Greedy suppression is sequential by nature, so this is the one place in the kernels that talks to the host, once
/// per call: the valid mask, the scores and the boxes are copied to the host in one transfer; there each image's valid
/// boxes are sorted by score (only the valid ones, and no scatter back: the results are written straight to their
/// slots), and the exact greedy walk runs in C#, testing an opener only against the boxes that share a grid cell with it
/// (so the work follows the boxes' local density, not n², and no N×N matrix is ever built); the result goes back to the
/// device in one copy. The host machinery lives under <c>Host/</c>: <c>HostImages</c> (the pooled copy and the
/// stable score sort), <c>GreedyWalk</c> and <c>BoxGrid</c> (with its quickselect). IoU is computed in float32 exactly as
/// the reference does, without eps, so zero-area pairs (NaN) never group or suppress.
/// </para>
/// </summary>
public static class Nms
{
    /// <summary>Groups boxes like the reference <c>nms_match</c>: in descending score, an unsuppressed box opens a group and takes
    /// every later unsuppressed box with IoU &gt;= <paramref name="iouThr"/>.</summary>
    /// <param name="boxes">[B, N, 4].</param>
    /// <param name="scores">[B, N].</param>
    /// <param name="valid">[B, N] bool: boxes that take part.</param>
    public static NmsMatchResult Match(Tensor boxes, Tensor scores, Tensor valid, double iouThr)
    {
        using var scope = NewDisposeScope();
        using var host = HostImages.Copy(boxes, scores, valid);
        long b = boxes.shape[0], n = boxes.shape[1];
        var group = new long[b * n];
        var position = new long[b * n];
        Array.Fill(group, -1L);
        Array.Fill(position, -1L);
        // The documented host walk, image by image; the reference nms_match takes its threshold as a float (NMS: a double).
        for (int i = 0; i < b; i++)
        {
            var order = host.ScoreOrder(i);
            var (sortedGroup, sortedPosition) = (new long[order.Length], new long[order.Length]);
            GreedyWalk.Run(host.Corners(i, order), order.Length, (float)iouThr, inclusive: true, sortedGroup, sortedPosition);
            for (int k = 0; k < order.Length; k++)
                (group[i * n + order[k]], position[i * n + order[k]]) = (sortedGroup[k], sortedPosition[k]);
        }
        return new NmsMatchResult(tensor(group, [b, n], int64, boxes.device).MoveToOuterDisposeScope(),
            tensor(position, [b, n], int64, boxes.device).MoveToOuterDisposeScope());
    }

    /// <summary>Greedy NMS per image: keep a box unless a kept, higher-scored box overlaps it with IoU &gt; <paramref name="iouThr"/>.</summary>
    /// <param name="boxes">[B, N, 4].</param>
    /// <param name="scores">[B, N].</param>
    /// <param name="valid">[B, N] bool.</param>
    /// <returns>[B, N] bool: the kept boxes.</returns>
    public static Tensor KeepMask(Tensor boxes, Tensor scores, Tensor valid, double iouThr)
    {
        using var scope = NewDisposeScope();
        using var host = HostImages.Copy(boxes, scores, valid);
        long b = boxes.shape[0], n = boxes.shape[1];
        var kept = new bool[b * n];
        for (int i = 0; i < b; i++)
        {
            var order = host.ScoreOrder(i);
            var sortedGroup = new long[order.Length];
            GreedyWalk.Run(host.Corners(i, order), order.Length, iouThr, inclusive: false, sortedGroup, default);
            // A kept box is an opener: position 0 of its own group; suppressed boxes joined a group; padding has none.
            var keptSorted = new bool[order.Length];
            GreedyWalk.MarkOpeners(sortedGroup, keptSorted);
            for (int k = 0; k < order.Length; k++) kept[i * n + order[k]] = keptSorted[k];
        }
        return tensor(kept, [b, n], device: boxes.device).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision-style NMS of one set of boxes.</summary>
    /// <param name="boxes">[N, 4].</param>
    /// <param name="scores">[N].</param>
    /// <returns>[K] int64 indices of the kept boxes, by descending score.</returns>
    public static Tensor Greedy(Tensor boxes, Tensor scores, double iouThr)
    {
        using var scope = NewDisposeScope();
        var keep = KeepMask(boxes.unsqueeze(0), scores.unsqueeze(0), ones_like(scores, ScalarType.Bool).unsqueeze(0), iouThr)[0];
        var order = RankOps.StableArgsort(scores, descending: true);
        return order.masked_select(keep.gather(0, order)).MoveToOuterDisposeScope();
    }

    /// <summary>NMS inside each category (<paramref name="idxs"/>: class, or image × class) in one pass: boxes of different
    /// categories are shifted apart by more than the largest coordinate so they never overlap.</summary>
    /// <param name="boxes">[N, 4].</param>
    /// <param name="scores">[N].</param>
    /// <param name="idxs">[N] int64 category.</param>
    /// <returns>[K] int64 indices of the kept boxes, by descending score (empty for no boxes).</returns>
    public static Tensor Batched(Tensor boxes, Tensor scores, Tensor idxs, double iouThr)
    {
        if (boxes.shape[0] == 0) return empty(0, int64, boxes.device);
        using var scope = NewDisposeScope();
        var offsets = idxs.to(boxes.dtype) * (boxes.amax([0, 1]) + 1);
        return Greedy(boxes + offsets.unsqueeze(-1), scores, iouThr).MoveToOuterDisposeScope();
    }
}
