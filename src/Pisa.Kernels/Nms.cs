using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
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
/// device in one copy. IoU is computed in float32 exactly as
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
            GreedyWalk(host.Corners(i, order), order.Length, (float)iouThr, inclusive: true, sortedGroup, sortedPosition);
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
            GreedyWalk(host.Corners(i, order), order.Length, iouThr, inclusive: false, sortedGroup, default);
            // A kept box is an opener: position 0 of its own group; suppressed boxes joined a group; padding has none.
            var keptSorted = new bool[order.Length];
            MarkOpeners(sortedGroup, keptSorted);
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
        var order = Ranks.StableArgsort(scores, descending: true);
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

    /// <summary>The host copy of a padded batch: each image's valid mask, scores and corners, taken in one transfer into a
    /// pooled buffer (returned on <see cref="Dispose"/>).</summary>
    private sealed class HostImages : IDisposable
    {
        private readonly double[] _data;
        private readonly long _images, _slots;

        private HostImages(double[] data, long images, long slots) => (_data, _images, _slots) = (data, images, slots);

        /// <summary>Copies the mask (as 0/1), the scores (exactly, as float64) and the corners (rounded to float32 first, as
        /// the walk computes in float32) to the host in one transfer.</summary>
        public static HostImages Copy(Tensor boxes, Tensor scores, Tensor valid)
        {
            using var scope = NewDisposeScope();
            var packed = cat([valid.to(float64).flatten(), scores.to(float64).flatten(), boxes.to(float32).to(float64).flatten()]);
            var host = ArrayPool<double>.Shared.Rent((int)packed.numel());
            // A span copy of the storage: TensorAccessor's ToArray / CopyTo go element by element, ~15x slower.
            MemoryMarshal.Cast<byte, double>(packed.cpu().bytes).CopyTo(host); // documented host transfer: once per call
            return new HostImages(host, boxes.shape[0], boxes.shape[1]);
        }

        public void Dispose() => ArrayPool<double>.Shared.Return(_data);

        /// <summary>Image <paramref name="i"/>'s valid slots by descending score, ties to the lower index, NaN first (as torch sorts).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public int[] ScoreOrder(int i)
        {
            long maskStart = i * _slots, scoreStart = _images * _slots + i * _slots;
            int count = 0;
            for (int j = 0; j < _slots; j++)
                if (_data[maskStart + j] != 0) count++;
            var keys = new double[count];
            var order = new int[count];
            for (int j = 0, k = 0; j < _slots; j++)
            {
                if (_data[maskStart + j] == 0) continue;
                (keys[k], order[k]) = (-_data[scoreStart + j], j);
                k++;
            }
            // Ascending -score puts NaN first, as torch's descending sort does; the stable sort keeps ties in slot order.
            StableSortByKey(keys, order);
            return order;
        }

        /// <summary>The corners of image <paramref name="i"/>'s <paramref name="slots"/>, in that order, 4 float32 per box.</summary>
        public float[] Corners(int i, int[] slots)
        {
            long boxStart = 2 * _images * _slots + i * _slots * 4;
            var corners = new float[slots.Length * 4];
            for (int k = 0; k < slots.Length; k++)
                for (int c = 0; c < 4; c++) corners[k * 4 + c] = (float)_data[boxStart + slots[k] * 4 + c];
            return corners;
        }
    }

    /// <summary>
    /// Sorts <paramref name="items"/> by ascending <paramref name="keys"/> (NaN first), keeping equal keys in their order: a
    /// bottom-up merge sort. Hand-written rather than <c>Array.Sort(keys, items)</c> (unstable, and a generic instantiation
    /// that runs unoptimised tier-0 code for a benchmark's or a training run's first steps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StableSortByKey(double[] keys, int[] items)
    {
        int n = keys.Length;
        var (keyBuffer, itemBuffer) = (new double[n], new int[n]);
        var (fromKeys, fromItems, toKeys, toItems) = (keys, items, keyBuffer, itemBuffer);
        for (int width = 1; width < n; width *= 2)
        {
            for (int start = 0; start < n; start += 2 * width)
            {
                int middle = Math.Min(start + width, n), end = Math.Min(start + 2 * width, n);
                int left = start, right = middle;
                for (int k = start; k < end; k++)
                {
                    // The right run's head goes first only when strictly before the left's: that keeps the sort stable.
                    bool takeRight = left == middle || (right < end && Before(fromKeys[right], fromKeys[left]));
                    int from = takeRight ? right++ : left++;
                    (toKeys[k], toItems[k]) = (fromKeys[from], fromItems[from]);
                }
            }
            (fromKeys, fromItems, toKeys, toItems) = (toKeys, toItems, fromKeys, fromItems);
        }
        if (fromKeys != keys)
        {
            Array.Copy(fromKeys, keys, n);
            Array.Copy(fromItems, items, n);
        }
    }

    /// <summary>Strictly before in ascending order with NaN first (equal keys and two NaNs are not).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(double a, double b) => double.IsNaN(a) ? !double.IsNaN(b) : a < b;

    /// <summary>
    /// The greedy walk over one image's score-sorted valid boxes: an unsuppressed box opens a group and takes every later
    /// unsuppressed box whose IoU with it is &gt;= (inclusive) or &gt; the threshold. An opener is tested only against its
    /// <see cref="BoxGrid"/> neighbours, so the work grows with the boxes' local density, not with n².
    /// </summary>
    /// <param name="data">one image's n score-sorted boxes, 4 corners each.</param>
    /// <param name="group">receives each box's group.</param>
    /// <param name="position">receives each box's position in its group (may be empty).</param>
    // Fully optimised from the first call: a training run's first steps (and a benchmark's) would otherwise walk in tier-0 code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GreedyWalk(float[] data, int n, double threshold, bool inclusive, Span<long> group, Span<long> position)
    {
        if (n == 0) return;
        // Corners as separate arrays: the inner test reads four floats per box.
        var (x1, y1, x2, y2, area) = (new float[n], new float[n], new float[n], new float[n], new float[n]);
        for (int i = 0; i < n; i++)
        {
            (x1[i], y1[i], x2[i], y2[i]) = (data[i * 4], data[i * 4 + 1], data[i * 4 + 2], data[i * 4 + 3]);
            area[i] = (x2[i] - x1[i]) * (y2[i] - y1[i]);
        }
        var grid = new BoxGrid(data.AsSpan(0, n * 4), threshold);

        var taken = new bool[n];
        var seenBy = new int[n];
        Array.Fill(seenBy, -1);
        var members = new int[n];
        int memberCount = 0;
        long groups = 0;
        int opener;

        // Tests a later, untaken box once per opener and keeps it when it overlaps the opener enough.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Consider(int j)
        {
            if (j <= opener || taken[j] || seenBy[j] == opener) return;
            seenBy[j] = opener;
            float w = MathF.Max(0f, MathF.Min(x2[opener], x2[j]) - MathF.Max(x1[opener], x1[j]));
            float h = MathF.Max(0f, MathF.Min(y2[opener], y2[j]) - MathF.Max(y1[opener], y1[j]));
            float inter = w * h;
            float iou = inter / (area[opener] + area[j] - inter); // NaN for two zero-area boxes: never compares true
            if (inclusive ? iou >= threshold : iou > threshold) members[memberCount++] = j;
        }

        for (opener = 0; opener < n; opener++)
        {
            if (taken[opener]) continue;
            taken[opener] = true;
            long g = groups++;
            group[opener] = g;
            if (!position.IsEmpty) position[opener] = 0;

            memberCount = 0;
            if (grid.IsLarge(opener))
            {
                for (int j = opener + 1; j < n; j++) Consider(j);
            }
            else
            {
                var (cx1, cy1, cx2, cy2) = grid.CellsOf(opener);
                for (int y = cy1; y <= cy2; y++)
                    for (int x = cx1; x <= cx2; x++)
                        foreach (int j in grid.OpenBoxesIn(x, y, taken)) Consider(j);
                foreach (int j in grid.OpenLarge(taken)) Consider(j);
            }
            SortAscending(members.AsSpan(0, memberCount)); // score order
            long next = 1;
            foreach (int j in members.AsSpan(0, memberCount))
            {
                taken[j] = true;
                group[j] = g;
                if (!position.IsEmpty) position[j] = next++;
            }
        }
    }

    /// <summary>Sorts a group's members: an insertion sort for the usual handful, <c>Span.Sort</c> for a large group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SortAscending(Span<int> values)
    {
        if (values.Length > 32)
        {
            values.Sort();
            return;
        }
        for (int i = 1; i < values.Length; i++)
        {
            int value = values[i], k = i - 1;
            for (; k >= 0 && values[k] > value; k--) values[k + 1] = values[k];
            values[k + 1] = value;
        }
    }

    /// <summary>
    /// A uniform grid over one image's boxes (cells the size of a median box), answering "which boxes can overlap this
    /// one enough?". With a threshold of at least 0.5 each box is registered once, at its centre: IoU &gt;= 0.5 puts each
    /// box's centre inside the other box (if j's centre lay outside i, at most half of j could overlap i, and IoU would be at
    /// most 1/2 with equality only on the edge), so an opener looks at the cells its own box covers, widened by a twentieth
    /// of a cell against rounding. Below 0.5 a box is registered in every cell it covers (positive IoU means a shared point), and a box
    /// covering more than <see cref="MaxCellsPerBox"/> cells, or with non-finite corners, is everybody's neighbour instead.
    /// </summary>
    private sealed class BoxGrid
    {
        private const int MaxCellsPerBox = 64;
        private readonly int _columns, _rows;
        private readonly float _minX, _minY, _cellWidth, _cellHeight;
        private readonly int[] _cellStart, _cellEnd, _cellBoxes, _large;
        private int _largeEnd;
        private readonly (int X1, int Y1, int X2, int Y2)[] _query;
        private readonly bool[] _isLarge;

        /// <param name="corners">n boxes, 4 corners each.</param>
        /// <param name="threshold">the IoU an opener needs; it decides how boxes are registered.</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

            // A twentieth of a cell around a box: far above the float rounding of a centre or of an IoU near the threshold,
            // far below the whole extra ring of cells (a box's cells and all their neighbours) a margin of one cell scans.
            float marginX = 0.05f * _cellWidth, marginY = 0.05f * _cellHeight;
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
                    _query[i] = (Column(corners[i * 4] - marginX), Row(corners[i * 4 + 1] - marginY), Column(corners[i * 4 + 2] + marginX), Row(corners[i * 4 + 3] + marginY));
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
            _cellEnd = counts; // the fill above advanced each cell's counter to its end
            _large = [.. large];
            _largeEnd = _large.Length;
        }

        /// <summary>Whether box <paramref name="i"/> is outside the grid (every later box is its neighbour).</summary>
        public bool IsLarge(int i) => _isLarge[i];

        /// <summary>The cells to look in for the neighbours of box <paramref name="i"/>.</summary>
        public (int X1, int Y1, int X2, int Y2) CellsOf(int i) => _query[i];

        /// <summary>
        /// The untaken boxes registered in a cell, in score order. Taken boxes leave the cell for good (a taken box never
        /// groups again, and every box before the current opener is taken), so later openers scan only what is still open.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ReadOnlySpan<int> OpenBoxesIn(int x, int y, bool[] taken)
        {
            int cell = y * _columns + x, start = _cellStart[cell];
            _cellEnd[cell] = DropTaken(_cellBoxes, start, _cellEnd[cell], taken);
            return _cellBoxes.AsSpan(start, _cellEnd[cell] - start);
        }

        /// <summary>The untaken boxes outside the grid, everybody's neighbours.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ReadOnlySpan<int> OpenLarge(bool[] taken)
        {
            _largeEnd = DropTaken(_large, 0, _largeEnd, taken);
            return _large.AsSpan(0, _largeEnd);
        }

        /// <summary>Moves the untaken boxes of <c>boxes[start..end)</c> to its front, in order; returns their new end.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static int DropTaken(int[] boxes, int start, int end, bool[] taken)
        {
            int kept = start;
            for (int k = start; k < end; k++)
                if (!taken[boxes[k]]) boxes[kept++] = boxes[k];
            return kept;
        }

        private static bool Finite(ReadOnlySpan<float> corners, int i) =>
            float.IsFinite(corners[i * 4]) && float.IsFinite(corners[i * 4 + 1]) && float.IsFinite(corners[i * 4 + 2]) && float.IsFinite(corners[i * 4 + 3]);

        /// <summary>The median of up to 255 evenly spaced samples (a cell size needs no exact median): the middle element of
        /// their ascending order, NaN first.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float Median(float[] values)
        {
            int step = Math.Max(1, values.Length / 255);
            var sample = new float[(values.Length + step - 1) / step];
            for (int i = 0; i < sample.Length; i++) sample[i] = values[i * step];
            int nans = 0;
            for (int i = 0; i < sample.Length; i++)
                if (float.IsNaN(sample[i])) (sample[nans], sample[i]) = (sample[i], sample[nans++]);
            int middle = sample.Length / 2;
            float m = middle < nans ? float.NaN : Select(sample.AsSpan(nans), middle - nans);
            return float.IsFinite(m) ? m : 1f;
        }

        /// <summary>The k-th smallest of NaN-free values (quickselect: linear, unlike sorting them; reorders the span).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float Select(Span<float> values, int k)
        {
            int lo = 0, hi = values.Length - 1;
            while (lo < hi)
            {
                float pivot = values[(lo + hi) >>> 1];
                int i = lo, j = hi;
                while (i <= j)
                {
                    while (values[i] < pivot) i++;
                    while (values[j] > pivot) j--;
                    if (i > j) break;
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
                if (k <= j) hi = j;
                else if (k >= i) lo = i;
                else break;
            }
            return values[k];
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
