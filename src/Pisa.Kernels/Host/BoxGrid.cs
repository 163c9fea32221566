using System.Runtime.CompilerServices;

namespace Pisa.Kernels.Host;

/// <summary>
/// A uniform grid over one image's boxes (cells the size of a median box), answering "which boxes can overlap this
/// one enough?". With a threshold of at least 0.5 each box is registered once, at its centre: IoU &gt;= 0.5 puts each
/// box's centre inside the other box (if j's centre lay outside i, at most half of j could overlap i, and IoU would be at
/// most 1/2 with equality only on the edge), so an opener looks at the cells its own box covers, widened by a twentieth
/// of a cell against rounding. Below 0.5 a box is registered in every cell it covers (positive IoU means a shared point), and a box
/// covering more than <see cref="MaxCellsPerBox"/> cells, or with non-finite corners, is everybody's neighbour instead.
/// </summary>
internal sealed class BoxGrid
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

