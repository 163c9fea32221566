using System.Numerics;
using Pisa.Evaluation.Coco;

namespace Pisa.Evaluation;

/// <summary>
/// Collects the matched detections of one category over all images (in ascending image id order) and turns them
/// into interpolated precision at the 101 recall thresholds and final recall, for every area range, detection limit
/// and IoU threshold. Buffers are reused from one category to the next.
/// </summary>
/// <remarks>
/// Only the precision at true positives is kept. Recall grows only at a true positive, so the first point reaching a
/// recall threshold above 0 is one; a false positive never raises precision, so the envelope (the maximum precision at
/// or after a point) is always reached at a true positive; and at recall threshold 0 the envelope of the first point
/// is the maximum over all of them, or 0 when there is none. Walking the ranked list once per (area, limit) for all ten
/// IoU thresholds, a detection with the same outcome at every threshold (the common false positive) costs O(1).
/// </remarks>
internal sealed class CategoryAccumulator
{
    private const int AllThresholds = (1 << 10) - 1;
    private static readonly int AreaCount = CocoEvalParameters.AreaRanges.Count;
    private static readonly int[] Limits = [.. CocoEvalParameters.MaxDetections];
    private static readonly int IouCount = CocoEvalParameters.IouThresholds.Count;
    private static readonly double[] RecallThresholds = [.. CocoEvalParameters.RecallThresholds];

    private readonly long[] _nonIgnoredGroundTruths = new long[AreaCount];
    private readonly long[] _truePositives = new long[IouCount];
    private readonly long[] _falsePositives = new long[IouCount];
    private double[] _scores = new double[1024];
    private int[] _ranks = new int[1024];
    private ushort[] _truePositive = new ushort[1024 * AreaCount];
    private ushort[] _ignored = new ushort[1024 * AreaCount];
    private int[] _order = new int[1024];
    private double[] _sortKeys = new double[1024];
    private double[] _precisionAtHit = new double[IouCount * 64];
    private int _hitCapacity = 64;

    /// <summary>Number of detections collected for the current category.</summary>
    public int Count { get; private set; }

    /// <summary>Starts a new category.</summary>
    public void Clear()
    {
        Count = 0;
        Array.Clear(_nonIgnoredGroundTruths);
    }

    /// <summary>Counts the ground truths of one image that are neither crowds nor outside each area range.</summary>
    public void AddGroundTruths(ReadOnlySpan<int> rows, IReadOnlyList<CocoAnnotation> annotations)
    {
        for (int a = 0; a < AreaCount; a++)
        {
            var bounds = CocoEvalParameters.Bounds((AreaRange)a);
            foreach (int row in rows)
                if (annotations[row].IsCrowd == 0 && !CocoEvalParameters.IsOutside(annotations[row].Area, bounds))
                    _nonIgnoredGroundTruths[a]++;
        }
    }

    /// <summary>
    /// Reserves room for <paramref name="count"/> ranked detections of one image and returns the spans
    /// <see cref="ImageMatcher.Match"/> fills, [count * 4] each; <see cref="CommitImage"/> then records their scores.
    /// </summary>
    public void ReserveImage(int count, out Span<ushort> truePositive, out Span<ushort> ignored)
    {
        EnsureCapacity(Count + count);
        truePositive = _truePositive.AsSpan(Count * AreaCount, count * AreaCount);
        ignored = _ignored.AsSpan(Count * AreaCount, count * AreaCount);
    }

    /// <summary>Records the scores of the detections just matched, in rank order.</summary>
    public void CommitImage(ReadOnlySpan<int> rankedRows, IReadOnlyList<CocoDetection> detections)
    {
        for (int rank = 0; rank < rankedRows.Length; rank++)
        {
            _scores[Count] = detections[rankedRows[rank]].Score;
            _ranks[Count] = rank;
            Count++;
        }
    }

    /// <summary>Writes precision [A, M, T, R] and recall [A, M, T] of category <paramref name="k"/> into the flat result arrays.</summary>
    public void Accumulate(int k, double[] precision, double[] recall)
    {
        RankAcrossImages();
        EnsureHitCapacity(_nonIgnoredGroundTruths.Max());
        for (int a = 0; a < AreaCount; a++)
            for (int m = 0; m < Limits.Length; m++)
            {
                long groundTruths = _nonIgnoredGroundTruths[a];
                if (groundTruths == 0)
                {
                    precision.AsSpan(CocoEvaluation.PrecisionOffset(k, a, m, 0), IouCount * RecallThresholds.Length).Fill(-1);
                    recall.AsSpan(CocoEvaluation.RecallOffset(k, a, m, 0), IouCount).Fill(-1);
                    continue;
                }
                CountHits(a, Limits[m]);
                for (int t = 0; t < IouCount; t++)
                {
                    recall[CocoEvaluation.RecallOffset(k, a, m, t)] = _truePositives[t] / (double)groundTruths;
                    InterpolatePrecision(t, groundTruths, precision.AsSpan(CocoEvaluation.PrecisionOffset(k, a, m, t), RecallThresholds.Length));
                }
            }
    }

    /// <summary>
    /// Orders the collected detections by score, highest first; equal scores keep collection order, which is
    /// ascending image id, then rank within the image — the reference's stable merge sort.
    /// </summary>
    private void RankAcrossImages() => StableScoreSort.Sort(_scores.AsSpan(0, Count), _sortKeys.AsSpan(0, Count), _order.AsSpan(0, Count));

    /// <summary>
    /// Walks the ranked detections within the limit once, for all IoU thresholds: counts true and false positives
    /// per threshold (ignored detections count as neither) and records the precision at each true positive, so that
    /// the j-th true positive at threshold t leaves its precision at <c>_precisionAtHit[t * capacity + j]</c>.
    /// </summary>
    private void CountHits(int a, int limit)
    {
        Array.Clear(_truePositives);
        Array.Clear(_falsePositives);
        long falseAtEveryThreshold = 0;
        foreach (int i in _order.AsSpan(0, Count))
        {
            if (_ranks[i] >= limit) continue;
            int hits = _truePositive[i * AreaCount + a];
            int misses = AllThresholds & ~(hits | _ignored[i * AreaCount + a]);
            if (misses == AllThresholds)
            {
                falseAtEveryThreshold++;
                continue;
            }
            for (; misses != 0; misses &= misses - 1) _falsePositives[BitOperations.TrailingZeroCount(misses)]++;
            for (; hits != 0; hits &= hits - 1)
            {
                int t = BitOperations.TrailingZeroCount(hits);
                long truePositives = ++_truePositives[t];
                _precisionAtHit[t * _hitCapacity + truePositives - 1] =
                    truePositives / (double)(truePositives + _falsePositives[t] + falseAtEveryThreshold);
            }
        }
    }

    /// <summary>
    /// The precision envelope read at the first true positive whose recall (j / n) reaches each recall threshold; 0 where
    /// recall never gets there.
    /// </summary>
    /// <param name="curve">Output, [R = 101].</param>
    private void InterpolatePrecision(int t, long groundTruths, Span<double> curve)
    {
        int hits = (int)_truePositives[t];
        var envelope = _precisionAtHit.AsSpan(t * _hitCapacity, hits);
        for (int j = hits - 2; j >= 0; j--) envelope[j] = Math.Max(envelope[j], envelope[j + 1]);
        int hit = 0;
        for (int r = 0; r < RecallThresholds.Length; r++)
        {
            while (hit < hits && (hit + 1) / (double)groundTruths < RecallThresholds[r]) hit++;
            curve[r] = hit < hits ? envelope[hit] : 0;
        }
    }

    private void EnsureCapacity(int count)
    {
        if (_scores.Length >= count) return;
        int size = Math.Max(count, 2 * _scores.Length);
        Array.Resize(ref _scores, size);
        Array.Resize(ref _ranks, size);
        Array.Resize(ref _truePositive, size * AreaCount);
        Array.Resize(ref _ignored, size * AreaCount);
        (_order, _sortKeys) = (new int[size], new double[size]);
    }

    /// <summary>True positives per threshold never outnumber the non-ignored ground truths.</summary>
    private void EnsureHitCapacity(long groundTruths)
    {
        if (_hitCapacity >= groundTruths) return;
        _hitCapacity = (int)Math.Max(groundTruths, 2L * _hitCapacity);
        _precisionAtHit = new double[IouCount * _hitCapacity];
    }
}
