using System.Numerics;
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
/// per call: the boxes are sorted by score on their device and copied to the host in one transfer (with each image's
/// number of valid boxes, which sort first); the greedy walk runs in C# over the valid prefix, testing an opener only
/// against the boxes still unsuppressed (so the work is about groups × boxes, not boxes², and no N×N matrix is ever
/// built); the result goes back to the device in one copy. IoU is computed in float32 exactly as the reference does,
/// without eps, so zero-area pairs (NaN) never group or suppress.
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
        var (order, host) = SortedOnHost(boxes, scores, valid);
        long b = boxes.shape[0], n = boxes.shape[1];
        var group = new long[b * n];
        var position = new long[b * n];
        Array.Fill(group, -1L);
        Array.Fill(position, -1L);
        for (int i = 0; i < b; i++) // the documented host walk, image by image
            GreedyWalk(host.Image(i), (float)iouThr, inclusive: true, group.AsSpan((int)(i * n), (int)n), position.AsSpan((int)(i * n), (int)n));
        return new NmsMatchResult(
            Unsort(tensor(group, [b, n], int64, boxes.device), order).MoveToOuterDisposeScope(),
            Unsort(tensor(position, [b, n], int64, boxes.device), order).MoveToOuterDisposeScope());
    }

    /// <summary>Greedy NMS per image: keep a box unless a kept, higher-scored box overlaps it with IoU &gt; <paramref name="iouThr"/>.</summary>
    /// <param name="boxes">[B, N, 4].</param>
    /// <param name="scores">[B, N].</param>
    /// <param name="valid">[B, N] bool.</param>
    /// <returns>[B, N] bool: the kept boxes.</returns>
    public static Tensor KeepMask(Tensor boxes, Tensor scores, Tensor valid, double iouThr)
    {
        using var scope = NewDisposeScope();
        var (order, host) = SortedOnHost(boxes, scores, valid);
        long b = boxes.shape[0], n = boxes.shape[1];
        var group = new long[b * n];
        Array.Fill(group, -1L);
        for (int i = 0; i < b; i++)
            GreedyWalk(host.Image(i), (float)iouThr, inclusive: false, group.AsSpan((int)(i * n), (int)n), default);
        // A kept box is an opener: position 0 of its own group; suppressed boxes joined a group; padding has none.
        var keptSorted = new bool[b * n];
        for (int i = 0; i < b; i++) MarkOpeners(group.AsSpan((int)(i * n), (int)n), keptSorted.AsSpan((int)(i * n), (int)n));
        return Unsort(tensor(keptSorted, [b, n], device: boxes.device), order).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision-style NMS of one set of boxes.</summary>
    /// <param name="boxes">[N, 4].</param>
    /// <param name="scores">[N].</param>
    /// <returns>[K] int64 indices of the kept boxes, by descending score.</returns>
    public static Tensor Greedy(Tensor boxes, Tensor scores, double iouThr)
    {
        using var scope = NewDisposeScope();
        var keep = KeepMask(boxes.unsqueeze(0), scores.unsqueeze(0), ones_like(scores, ScalarType.Bool).unsqueeze(0), iouThr)[0];
        var order = Ranks.StableArgsort(scores, descending: true);
        return order.masked_select(keep.gather(0, order)).MoveToOuterDisposeScope();
    }

    /// <summary>NMS inside each category (<paramref name="idxs"/>: class, or image × class) in one pass: boxes of different
    /// categories are shifted apart by more than the largest coordinate so they never overlap.</summary>
    /// <param name="boxes">[N, 4].</param>
    /// <param name="scores">[N].</param>
    /// <param name="idxs">[N] int64 category.</param>
    /// <returns>[K] int64 indices of the kept boxes, by descending score.</returns>
    public static Tensor Batched(Tensor boxes, Tensor scores, Tensor idxs, double iouThr)
    {
        using var scope = NewDisposeScope();
        var offsets = idxs.to(boxes.dtype) * (boxes.amax([0, 1]) + 1);
        return Greedy(boxes + offsets.unsqueeze(-1), scores, iouThr).MoveToOuterDisposeScope();
    }

    /// <summary>Sorts each image's boxes by descending score (padding last, ties by index) and copies them, with each
    /// image's valid count, to the host in one transfer.</summary>
    private static (Tensor Order, HostBoxes Host) SortedOnHost(Tensor boxes, Tensor scores, Tensor valid)
    {
        long b = boxes.shape[0], n = boxes.shape[1];
        var key = where(valid, scores.to(float64), full_like(scores, double.NegativeInfinity, ScalarType.Float64));
        var order = Ranks.StableArgsort(key, descending: true);
        var sortedBoxes = boxes.to(float32).gather(1, order.unsqueeze(-1).expand(-1, -1, 4));
        // Counts travel as float32 in the same copy: exact below 2^24 boxes per image.
        var packed = cat([valid.sum(1).to(float32), sortedBoxes.flatten()]);
        float[] host = packed.cpu().data<float>().ToArray(); // documented host transfer: once per call
        return (order, new HostBoxes(host, b, n));
    }

    private static Tensor Unsort(Tensor sortedValues, Tensor order) => zeros_like(sortedValues).scatter(1, order, sortedValues);

    /// <summary>The host copy: B valid counts, then B × N × 4 sorted corners.</summary>
    private readonly record struct HostBoxes(float[] Data, long Images, long Slots)
    {
        public ReadOnlySpan<float> Image(int i) =>
            Data.AsSpan((int)(Images + i * Slots * 4), (int)Data[i] * 4);
    }

    /// <summary>
    /// The greedy walk over one image's score-sorted valid boxes: an unsuppressed box opens a group and takes every later
    /// unsuppressed box whose IoU with it is &gt;= (inclusive) or &gt; the threshold. Boxes still alive are kept in a compacted
    /// list, so each opener only tests the survivors.
    /// </summary>
    /// <param name="corners">[n * 4] sorted boxes.</param>
    /// <param name="group">receives each box's group.</param>
    /// <param name="position">receives each box's position in its group (may be empty).</param>
    private static void GreedyWalk(ReadOnlySpan<float> corners, float threshold, bool inclusive, Span<long> group, Span<long> position)
    {
        int n = corners.Length / 4;
        var alive = new int[n];
        var area = new float[n];
        for (int i = 0; i < n; i++)
        {
            alive[i] = i;
            area[i] = (corners[i * 4 + 2] - corners[i * 4]) * (corners[i * 4 + 3] - corners[i * 4 + 1]);
        }
        int aliveCount = n;
        long groups = 0;
        while (aliveCount > 0)
        {
            int opener = alive[0];
            long g = groups++;
            group[opener] = g;
            if (!position.IsEmpty) position[opener] = 0;
            long next = 1;
            float ox1 = corners[opener * 4], oy1 = corners[opener * 4 + 1], ox2 = corners[opener * 4 + 2], oy2 = corners[opener * 4 + 3];
            float openerArea = area[opener];
            int survivors = 0;
            for (int k = 1; k < aliveCount; k++)
            {
                int j = alive[k];
                float w = MathF.Max(0f, MathF.Min(ox2, corners[j * 4 + 2]) - MathF.Max(ox1, corners[j * 4]));
                float h = MathF.Max(0f, MathF.Min(oy2, corners[j * 4 + 3]) - MathF.Max(oy1, corners[j * 4 + 1]));
                float inter = w * h;
                float iou = inter / (openerArea + area[j] - inter); // NaN for two zero-area boxes: never compares true
                if (inclusive ? iou >= threshold : iou > threshold)
                {
                    group[j] = g;
                    if (!position.IsEmpty) position[j] = next++;
                }
                else alive[survivors++] = j;
            }
            aliveCount = survivors;
        }
    }

    /// <summary>Marks each group's opener (the first box of a group in score order) as kept.</summary>
    private static void MarkOpeners(ReadOnlySpan<long> group, Span<bool> kept)
    {
        long seen = -1;
        for (int i = 0; i < group.Length; i++)
            if (group[i] > seen) { kept[i] = true; seen = group[i]; }
    }
}
