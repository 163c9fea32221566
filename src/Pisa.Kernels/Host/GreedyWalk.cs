using System.Runtime.CompilerServices;

namespace Pisa.Kernels.Host;

/// <summary>The exact greedy walk of NMS and <c>nms_match</c> over one image's score-sorted boxes, on the host.</summary>
internal static class GreedyWalk
{
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
    public static void Run(float[] data, int n, double threshold, bool inclusive, Span<long> group, Span<long> position)
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

    /// <summary>Marks each group's opener (the first box of a group in score order) as kept.</summary>
    public static void MarkOpeners(ReadOnlySpan<long> group, Span<bool> kept)
    {
        long seen = -1;
        for (int i = 0; i < group.Length; i++)
            if (group[i] > seen) { kept[i] = true; seen = group[i]; }
    }
}
