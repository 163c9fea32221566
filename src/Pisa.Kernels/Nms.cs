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
/// number of valid boxes, which sort first); the exact greedy walk runs in C# over the valid prefix, testing an opener
/// only against the boxes that share a grid cell with it (so the work follows the boxes' local density, not n², and
/// no N×N matrix is ever built); the result goes back to the device in one copy. IoU is computed in float32 exactly as
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
        var (order, host) = SortedOnHost(boxes, scores, valid);
        long b = boxes.shape[0], n = boxes.shape[1];
        var group = new long[b * n];
        var position = new long[b * n];
        Array.Fill(group, -1L);
        Array.Fill(position, -1L);
        // The documented host walk, image by image; the reference nms_match takes its threshold as a float (NMS: a double).
        for (int i = 0; i < b; i++)
            GreedyWalk(host.Data, host.Image(i).Start, host.Image(i).Count, (float)iouThr, inclusive: true, group.AsSpan((int)(i * n), (int)n), position.AsSpan((int)(i * n), (int)n));
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
            GreedyWalk(host.Data, host.Image(i).Start, host.Image(i).Count, iouThr, inclusive: false, group.AsSpan((int)(i * n), (int)n), default);
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
        /// <summary>Where image <paramref name="i"/>'s boxes start in <see cref="Data"/>, and how many are valid.</summary>
        public (int Start, int Count) Image(int i) => ((int)(Images + i * Slots * 4), (int)Data[i]);
    }

    /// <summary>
    /// The greedy walk over one image's score-sorted valid boxes: an unsuppressed box opens a group and takes every later
    /// unsuppressed box whose IoU with it is &gt;= (inclusive) or &gt; the threshold. An opener is tested only against its
    /// <see cref="BoxGrid"/> neighbours, so the work grows with the boxes' local density, not with n².
    /// </summary>
    /// <param name="data">the host copy; this image's n sorted boxes start at <paramref name="start"/>, 4 corners each.</param>
    /// <param name="group">receives each box's group.</param>
    /// <param name="position">receives each box's position in its group (may be empty).</param>
    private static void GreedyWalk(float[] data, int start, int n, double threshold, bool inclusive, Span<long> group, Span<long> position)
    {
        if (n == 0) return;
        // Corners as separate arrays: the inner test reads four floats per box.
        var (x1, y1, x2, y2, area) = (new float[n], new float[n], new float[n], new float[n], new float[n]);
        for (int i = 0; i < n; i++)
        {
            (x1[i], y1[i], x2[i], y2[i]) = (data[start + i * 4], data[start + i * 4 + 1], data[start + i * 4 + 2], data[start + i * 4 + 3]);
            area[i] = (x2[i] - x1[i]) * (y2[i] - y1[i]);
        }
        var grid = new BoxGrid(data.AsSpan(start, n * 4), threshold);

        var taken = new bool[n];
        var seenBy = new int[n];
        Array.Fill(seenBy, -1);
        var members = new List<int>();
        long groups = 0;
        int opener;

        // Tests a later, untaken box once per opener and keeps it when it overlaps the opener enough.
        void Consider(int j)
        {
            if (j <= opener || taken[j] || seenBy[j] == opener) return;
            seenBy[j] = opener;
            float w = MathF.Max(0f, MathF.Min(x2[opener], x2[j]) - MathF.Max(x1[opener], x1[j]));
            float h = MathF.Max(0f, MathF.Min(y2[opener], y2[j]) - MathF.Max(y1[opener], y1[j]));
            float inter = w * h;
            float iou = inter / (area[opener] + area[j] - inter); // NaN for two zero-area boxes: never compares true
            if (inclusive ? iou >= threshold : iou > threshold) members.Add(j);
        }

        for (opener = 0; opener < n; opener++)
        {
            if (taken[opener]) continue;
            taken[opener] = true;
            long g = groups++;
            group[opener] = g;
            if (!position.IsEmpty) position[opener] = 0;

            members.Clear();
            if (grid.IsLarge(opener))
            {
                for (int j = opener + 1; j < n; j++) Consider(j);
            }
            else
            {
                var (cx1, cy1, cx2, cy2) = grid.CellsOf(opener);
                for (int y = cy1; y <= cy2; y++)
                    for (int x = cx1; x <= cx2; x++)
                        foreach (int j in grid.BoxesIn(x, y)) Consider(j);
                foreach (int j in grid.Large) Consider(j);
            }
            members.Sort(); // score order
            long next = 1;
            foreach (int j in members)
            {
                taken[j] = true;
                group[j] = g;
                if (!position.IsEmpty) position[j] = next++;
            }
        }
    }

    /// <summary>
    /// A uniform grid over one image's boxes (cells the size of a median box), answering "which boxes can overlap this
    /// one enough?". With a threshold of at least 0.5 each box is registered once, at its centre: IoU &gt;= 0.5 puts each
    /// box's centre inside the other box (if j's centre lay outside i, at most half of j could overlap i, and IoU would be at
    /// most 1/2 with equality only on the edge), so an opener looks at the cells its own box covers, plus a one-cell margin
    /// against rounding. Below 0.5 a box is registered in every cell it covers (positive IoU means a shared point), and a box
    /// covering more than <see cref="MaxCellsPerBox"/> cells, or with non-finite corners, is everybody's neighbour instead.
    /// </summary>
    private sealed class BoxGrid
    {
        private const int MaxCellsPerBox = 64;
        private readonly int _columns, _rows;
        private readonly float _minX, _minY, _cellWidth, _cellHeight;
        private readonly int[] _cellStart, _cellBoxes, _large;
        private readonly (int X1, int Y1, int X2, int Y2)[] _query;
        private readonly bool[] _isLarge;

        /// <param name="corners">n boxes, 4 corners each.</param>
        /// <param name="threshold">the IoU an opener needs; it decides how boxes are registered.</param>
        public BoxGrid(ReadOnlySpan<float> corners, double threshold)
        {
            int n = corners.Length / 4;
            bool byCentre = threshold >= 0.5, everyBoxLarge = !(threshold > 0);
            float minX = float.MaxValue, minY = float.MaxValue, maxX = float.MinValue, maxY = float.MinValue;
            var widths = new float[n];
            var heights = new float[n];
            for (int i = 0; i < n; i++)
            {
                (widths[i], heights[i]) = (corners[i * 4 + 2] - corners[i * 4], corners[i * 4 + 3] - corners[i * 4 + 1]);
                if (!Finite(corners, i)) continue;
                minX = MathF.Min(minX, corners[i * 4]); minY = MathF.Min(minY, corners[i * 4 + 1]);
                maxX = MathF.Max(maxX, corners[i * 4 + 2]); maxY = MathF.Max(maxY, corners[i * 4 + 3]);
            }
            // Cells the size of a median box, so a typical box covers about 2 x 2 cells; at most 64 x 64 cells.
            float medianWidth = Median(widths), medianHeight = Median(heights);
            (_minX, _minY) = (minX, minY);
            _columns = maxX > minX ? Math.Clamp((int)((maxX - minX) / MathF.Max(medianWidth, 1e-3f)), 1, 64) : 1;
            _rows = maxY > minY ? Math.Clamp((int)((maxY - minY) / MathF.Max(medianHeight, 1e-3f)), 1, 64) : 1;
            _cellWidth = maxX > minX ? (maxX - minX) / _columns : 1f;
            _cellHeight = maxY > minY ? (maxY - minY) / _rows : 1f;

            _query = new (int, int, int, int)[n];
            var registered = new (int X1, int Y1, int X2, int Y2)[n];
            _isLarge = new bool[n];
            var counts = new int[_columns * _rows + 1];
            var large = new List<int>();
            for (int i = 0; i < n; i++)
            {
                var cover = (Column(corners[i * 4]), Row(corners[i * 4 + 1]), Column(corners[i * 4 + 2]), Row(corners[i * 4 + 3]));
                if (byCentre)
                {
                    int cx = Column((corners[i * 4] + corners[i * 4 + 2]) * 0.5f), cy = Row((corners[i * 4 + 1] + corners[i * 4 + 3]) * 0.5f);
                    registered[i] = (cx, cy, cx, cy);
                    _query[i] = (Math.Max(0, cover.Item1 - 1), Math.Max(0, cover.Item2 - 1), Math.Min(_columns - 1, cover.Item3 + 1), Math.Min(_rows - 1, cover.Item4 + 1));
                }
                else
                {
                    registered[i] = _query[i] = cover;
                }
                var r = registered[i];
                if (everyBoxLarge || !Finite(corners, i) || (!byCentre && (r.X2 - r.X1 + 1) * (r.Y2 - r.Y1 + 1) > MaxCellsPerBox))
                {
                    _isLarge[i] = true;
                    large.Add(i);
                    continue;
                }
                for (int y = r.Y1; y <= r.Y2; y++)
                    for (int x = r.X1; x <= r.X2; x++) counts[y * _columns + x + 1]++;
            }
            for (int k = 1; k < counts.Length; k++) counts[k] += counts[k - 1];
            _cellStart = (int[])counts.Clone();
            _cellBoxes = new int[counts[^1]];
            for (int i = 0; i < n; i++) // ascending, so each cell lists its boxes in score order
            {
                if (_isLarge[i]) continue;
                var r = registered[i];
                for (int y = r.Y1; y <= r.Y2; y++)
                    for (int x = r.X1; x <= r.X2; x++) _cellBoxes[counts[y * _columns + x]++] = i;
            }
            _large = [.. large];
        }

        /// <summary>Whether box <paramref name="i"/> is outside the grid (every later box is its neighbour).</summary>
        public bool IsLarge(int i) => _isLarge[i];

        /// <summary>The cells to look in for the neighbours of box <paramref name="i"/>.</summary>
        public (int X1, int Y1, int X2, int Y2) CellsOf(int i) => _query[i];

        /// <summary>The grid boxes registered in a cell, in score order.</summary>
        public ReadOnlySpan<int> BoxesIn(int x, int y)
        {
            int cell = y * _columns + x;
            return _cellBoxes.AsSpan(_cellStart[cell], _cellStart[cell + 1] - _cellStart[cell]);
        }

        /// <summary>The boxes outside the grid, everybody's neighbours.</summary>
        public ReadOnlySpan<int> Large => _large;

        private static bool Finite(ReadOnlySpan<float> corners, int i) =>
            float.IsFinite(corners[i * 4]) && float.IsFinite(corners[i * 4 + 1]) && float.IsFinite(corners[i * 4 + 2]) && float.IsFinite(corners[i * 4 + 3]);

        /// <summary>The median of up to 255 evenly spaced samples: a cell size needs no exact median.</summary>
        private static float Median(float[] values)
        {
            int step = Math.Max(1, values.Length / 255);
            var sample = new float[(values.Length + step - 1) / step];
            for (int i = 0; i < sample.Length; i++) sample[i] = values[i * step];
            Array.Sort(sample);
            float m = sample[sample.Length / 2];
            return float.IsFinite(m) ? m : 1f;
        }

        private int Column(float x) => float.IsFinite(x) ? Math.Clamp((int)((x - _minX) / _cellWidth), 0, _columns - 1) : 0;

        private int Row(float y) => float.IsFinite(y) ? Math.Clamp((int)((y - _minY) / _cellHeight), 0, _rows - 1) : 0;
    }

    /// <summary>Marks each group's opener (the first box of a group in score order) as kept.</summary>
    private static void MarkOpeners(ReadOnlySpan<long> group, Span<bool> kept)
    {
        long seen = -1;
        for (int i = 0; i < group.Length; i++)
            if (group[i] > seen) { kept[i] = true; seen = group[i]; }
    }
}
