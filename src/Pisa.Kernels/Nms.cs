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
/// Greedy suppression is sequential by nature, so this is the one place in the kernels that talks to the host:
/// the pairwise "overlaps enough" relation is computed on the boxes' device in row tiles, packed 64 pairs to a
/// word, and copied to the host once per tile; the greedy walk then runs over the bits in C#. One tile covers
/// the whole batch up to <see cref="TileElements"/> pairs (about 2,000 boxes per image for 2 images), so a typical
/// step makes exactly one transfer; bigger inputs stream row tiles to bound memory (no N×N float matrix ever),
/// and stop as soon as the rows left are all padding. The walk's results go back to the device in one copy.
/// </para>
/// </summary>
public static class Nms
{
    /// <summary>Pairs per tile (B × rows × columns); bounds the IoU temporaries to ~32 MB.</summary>
    public const long TileElements = 1L << 23;

    /// <summary>Groups boxes like the reference <c>nms_match</c>: in descending score, an unsuppressed box opens a group and takes
    /// every later unsuppressed box with IoU &gt;= <paramref name="iouThr"/> (IoU without eps: zero-area pairs never group).</summary>
    /// <param name="boxes">[B, N, 4].</param>
    /// <param name="scores">[B, N].</param>
    /// <param name="valid">[B, N] bool: boxes that take part.</param>
    public static NmsMatchResult Match(Tensor boxes, Tensor scores, Tensor valid, double iouThr)
    {
        using var scope = NewDisposeScope();
        var (order, sortedBoxes, sortedValid) = SortByScore(boxes, scores, valid);
        long b = boxes.shape[0], n = boxes.shape[1];
        var group = new long[b * n];
        var position = new long[b * n];
        Array.Fill(group, -1L);
        Array.Fill(position, -1L);
        var walkers = new MatchWalk[b];
        for (int i = 0; i < b; i++) walkers[i] = new MatchWalk(n, group.AsMemory((int)(i * n), (int)n), position.AsMemory((int)(i * n), (int)n));
        WalkTiles(sortedBoxes, sortedValid, iouThr, inclusive: true, walkers);
        var sortedGroup = tensor(group, [b, n], int64, boxes.device);
        var sortedPosition = tensor(position, [b, n], int64, boxes.device);
        return new NmsMatchResult(
            Unsort(sortedGroup, order).MoveToOuterDisposeScope(),
            Unsort(sortedPosition, order).MoveToOuterDisposeScope());
    }

    /// <summary>Greedy NMS per image: keep a box unless a kept, higher-scored box overlaps it with IoU &gt; <paramref name="iouThr"/>.</summary>
    /// <param name="boxes">[B, N, 4].</param>
    /// <param name="scores">[B, N].</param>
    /// <param name="valid">[B, N] bool.</param>
    /// <returns>[B, N] bool: the kept boxes.</returns>
    public static Tensor KeepMask(Tensor boxes, Tensor scores, Tensor valid, double iouThr)
    {
        using var scope = NewDisposeScope();
        var (order, sortedBoxes, sortedValid) = SortByScore(boxes, scores, valid);
        long b = boxes.shape[0], n = boxes.shape[1];
        var keep = new bool[b * n];
        var walkers = new KeepWalk[b];
        for (int i = 0; i < b; i++) walkers[i] = new KeepWalk(n, keep.AsMemory((int)(i * n), (int)n));
        WalkTiles(sortedBoxes, sortedValid, iouThr, inclusive: false, walkers);
        var sortedKeep = tensor(keep, [b, n], device: boxes.device);
        return Unsort(sortedKeep, order).MoveToOuterDisposeScope();
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

    /// <summary>Descending-score order with padding last (ties by index), and the boxes and validity in that order.</summary>
    private static (Tensor Order, Tensor Boxes, Tensor Valid) SortByScore(Tensor boxes, Tensor scores, Tensor valid)
    {
        var key = where(valid, scores.to(float64), full_like(scores, double.NegativeInfinity, ScalarType.Float64));
        var order = Ranks.StableArgsort(key, descending: true);
        var sortedBoxes = boxes.gather(1, order.unsqueeze(-1).expand(-1, -1, 4));
        var sortedValid = valid.gather(1, order);
        // Padding sorts last, so the valid ones are a prefix; a padded box with a real score never sneaks in.
        return (order, sortedBoxes, sortedValid);
    }

    private static Tensor Unsort(Tensor sortedValues, Tensor order) => zeros_like(sortedValues).scatter(1, order, sortedValues);

    /// <summary>
    /// Computes the overlap bits tile by tile and hands each image's rows to its walker. The first tile's transfer also
    /// carries each image's number of valid boxes (they are a prefix in score order), so later tiles stop at the last
    /// valid row and column instead of the padded width.
    /// </summary>
    private static void WalkTiles(Tensor sortedBoxes, Tensor sortedValid, double iouThr, bool inclusive, IRowWalk[] walkers)
    {
        long b = sortedBoxes.shape[0], n = sortedBoxes.shape[1];
        if (n == 0) return;
        long rowsPerTile = Math.Max(64, TileElements / Math.Max(1, b * n));
        rowsPerTile = (rowsPerTile + 63) / 64 * 64; // tiles start on a word boundary
        using var bitWeights = BitWeights(sortedBoxes.device);
        using var areas = Boxes.Area(sortedBoxes);
        using var validCount = sortedValid.sum(1, type: ScalarType.Int64);
        long end = n; // rows and columns past every image's valid prefix are padding
        for (long r0 = 0; r0 < end; r0 += rowsPerTile)
        {
            long r1 = Math.Min(end, r0 + rowsPerTile);
            long w0 = r0 / 64;
            long[] transfer;
            using (NewDisposeScope())
            {
                var tile = TileBits(sortedBoxes, areas, sortedValid, r0, r1, w0 * 64, end, iouThr, inclusive, bitWeights).flatten();
                if (r0 == 0) tile = cat([validCount, tile]);
                transfer = tile.cpu().data<long>().ToArray(); // documented host transfer: one copy per tile
            }
            var bits = transfer.AsSpan();
            if (r0 == 0)
            {
                end = 1;
                for (int i = 0; i < b; i++) end = Math.Max(end, transfer[i]);
                bits = bits[(int)b..];
            }
            long tileWords = ((r0 == 0 ? n : end) - w0 * 64 + 63) / 64;
            for (int i = 0; i < b; i++)
                walkers[i].Walk(bits.Slice((int)(i * (r1 - r0) * tileWords), (int)((r1 - r0) * tileWords)), r0, r1, w0, tileWords);
        }
    }

    /// <summary>Packed relation bits of rows [r0, r1) with columns [c0, n): bit j of row i set when j &gt; i, both valid, and
    /// they overlap enough; the diagonal bit marks a valid row.</summary>
    /// <returns>[B, r1-r0, ceil((n - c0)/64)] int64.</returns>
    private static Tensor TileBits(Tensor boxes, Tensor areas, Tensor valid, long r0, long r1, long c0, long n, double iouThr, bool inclusive, Tensor bitWeights)
    {
        long b = boxes.shape[0];
        var rows = boxes[TensorIndex.Colon, TensorIndex.Slice(r0, r1)].unsqueeze(2);
        var cols = boxes[TensorIndex.Colon, TensorIndex.Slice(c0, n)].unsqueeze(1);
        var inter = Boxes.Intersection(rows, cols);
        // The reference nms_match and NMS use no eps: a zero-area pair gives NaN and never compares true.
        var iou = inter / (areas[TensorIndex.Colon, TensorIndex.Slice(r0, r1)].unsqueeze(2) + areas[TensorIndex.Colon, TensorIndex.Slice(c0, n)].unsqueeze(1) - inter);
        var hit = inclusive ? iou >= iouThr : iou > iouThr;
        var rowIndex = arange(r0, r1, int64, boxes.device).view(1, -1, 1);
        var colIndex = arange(c0, n, int64, boxes.device).view(1, 1, -1);
        var rowValid = valid[TensorIndex.Colon, TensorIndex.Slice(r0, r1)].unsqueeze(2);
        hit = (hit & (colIndex > rowIndex) & rowValid & valid[TensorIndex.Colon, TensorIndex.Slice(c0, n)].unsqueeze(1)) | ((colIndex == rowIndex) & rowValid);
        long width = n - c0, tileWords = (width + 63) / 64;
        if (tileWords * 64 != width) hit = nn.functional.pad(hit, [0, tileWords * 64 - width]);
        return (hit.view(b, r1 - r0, tileWords, 64).to(int64) * bitWeights).sum(-1);
    }

    /// <summary>2^k for k = 0..63 as int64 (bit 63 is the sign bit), so summing set bits packs a word.</summary>
    private static Tensor BitWeights(Device device)
    {
        var weights = new long[64];
        for (int k = 0; k < 64; k++) weights[k] = 1L << k; // 1L << 63 is long.MinValue, the sign bit
        return tensor(weights, int64, device);
    }

    /// <summary>One image's greedy walk over its relation rows, tile after tile.</summary>
    private interface IRowWalk
    {
        /// <summary>Walks rows [r0, r1) of this image's tile (a valid row has its diagonal bit set).</summary>
        void Walk(ReadOnlySpan<long> tile, long r0, long r1, long w0, long tileWords);
    }

    /// <summary>nms_match: an unsuppressed valid row opens a group and takes every later unsuppressed overlapping box.</summary>
    private sealed class MatchWalk(long n, Memory<long> group, Memory<long> position) : IRowWalk
    {
        private readonly ulong[] _suppressed = new ulong[(n + 63) / 64];
        private long _groups;

        public void Walk(ReadOnlySpan<long> tile, long r0, long r1, long w0, long tileWords)
        {
            var groupSpan = group.Span;
            var positionSpan = position.Span;
            for (long i = r0; i < r1; i++)
            {
                var row = tile.Slice((int)((i - r0) * tileWords), (int)tileWords);
                ulong self = 1UL << (int)(i & 63);
                if (((ulong)row[(int)(i / 64 - w0)] & self) == 0) continue; // padding
                if ((_suppressed[i / 64] & self) != 0) continue;
                long g = _groups++;
                groupSpan[(int)i] = g;
                positionSpan[(int)i] = 0;
                long next = 1;
                for (long w = i / 64; w < w0 + tileWords; w++)
                {
                    ulong members = (ulong)row[(int)(w - w0)] & ~_suppressed[w];
                    if (w == i / 64) members &= ~self;
                    _suppressed[w] |= members;
                    for (; members != 0; members &= members - 1)
                    {
                        long j = w * 64 + BitOperations.TrailingZeroCount(members);
                        groupSpan[(int)j] = g;
                        positionSpan[(int)j] = next++;
                    }
                }
            }
        }
    }

    /// <summary>NMS: a valid row not yet suppressed is kept and suppresses every later box it overlaps.</summary>
    private sealed class KeepWalk(long n, Memory<bool> keep) : IRowWalk
    {
        private readonly ulong[] _suppressed = new ulong[(n + 63) / 64];

        public void Walk(ReadOnlySpan<long> tile, long r0, long r1, long w0, long tileWords)
        {
            var keepSpan = keep.Span;
            for (long i = r0; i < r1; i++)
            {
                var row = tile.Slice((int)((i - r0) * tileWords), (int)tileWords);
                ulong self = 1UL << (int)(i & 63);
                if (((ulong)row[(int)(i / 64 - w0)] & self) == 0) continue;
                if ((_suppressed[i / 64] & self) != 0) continue;
                keepSpan[(int)i] = true;
                for (long w = i / 64; w < w0 + tileWords; w++)
                    _suppressed[w] |= (ulong)row[(int)(w - w0)];
            }
        }
    }
}
