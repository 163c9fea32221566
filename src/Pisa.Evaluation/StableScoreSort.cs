namespace Pisa.Evaluation;

/// <summary>
/// The order a stable sort by descending score gives: highest score first, equal scores by ascending position.
/// Sorting primitive keys with the runtime's span sort and then ordering each run of equal scores is several times
/// faster than a sort with a comparer, and allocates nothing.
/// </summary>
internal static class StableScoreSort
{
    /// <summary>Fills <paramref name="order"/> with the positions 0..n-1 of <paramref name="scores"/> in that order.</summary>
    /// <param name="scores">[n], finite.</param>
    /// <param name="keys">Scratch, [n].</param>
    /// <param name="order">Output, [n].</param>
    public static void Sort(ReadOnlySpan<double> scores, Span<double> keys, Span<int> order)
    {
        for (int i = 0; i < scores.Length; i++)
        {
            keys[i] = -scores[i];
            order[i] = i;
        }
        keys.Sort(order);
        for (int begin = 0; begin < scores.Length;)
        {
            int end = begin + 1;
            while (end < scores.Length && keys[end] == keys[begin]) end++;
            if (end - begin > 1) order[begin..end].Sort();
            begin = end;
        }
    }
}
