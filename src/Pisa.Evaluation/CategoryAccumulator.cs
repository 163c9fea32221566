namespace Pisa.Evaluation;

/// <summary>
/// Collects the matched detections of one category over all images (in ascending image id order) and turns them
/// into interpolated precision at the 101 recall thresholds and final recall, for every area range, detection limit
/// and IoU threshold. Buffers are reused from one category to the next.
/// </summary>
internal sealed class CategoryAccumulator
{
    private static readonly int AreaCount = CocoEvalParameters.AreaRanges.Count;
    private static readonly int[] Limits = [.. CocoEvalParameters.MaxDetections];
    private static readonly int IouCount = CocoEvalParameters.IouThresholds.Count;
    private static readonly double[] RecallThresholds = [.. CocoEvalParameters.RecallThresholds];

    private readonly long[] _nonIgnoredGroundTruths = new long[AreaCount];
    private double[] _scores = new double[1024];
    private int[] _ranks = new int[1024];
    private ushort[] _truePositive = new ushort[1024 * AreaCount];
    private ushort[] _ignored = new ushort[1024 * AreaCount];
    private int[] _order = new int[1024];
    private double[] _precisionAt = new double[1024];
    private double[] _recallAt = new double[1024];

    /// <summary>Number of detections collected for the current category.</summary>
    public int Count { get; private set; }

    /// <summary>Starts a new category.</summary>
    public void Clear()
    {
        Count = 0;
        Array.Clear(_nonIgnoredGroundTruths);
    }

    /// <summary>Counts the ground truths of one image that are neither crowds nor outside each area range.</summary>
    public void AddGroundTruths(ReadOnlySpan<int> rows, IReadOnlyList<Coco.CocoAnnotation> annotations)
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
    public void CommitImage(ReadOnlySpan<int> rankedRows, IReadOnlyList<Coco.CocoDetection> detections)
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
        for (int a = 0; a < AreaCount; a++)
            for (int m = 0; m < Limits.Length; m++)
                for (int t = 0; t < IouCount; t++)
                {
                    var curve = precision.AsSpan(CocoEvaluation.PrecisionOffset(k, a, m, t), RecallThresholds.Length);
                    ref double finalRecall = ref recall[CocoEvaluation.RecallOffset(k, a, m, t)];
                    long groundTruths = _nonIgnoredGroundTruths[a];
                    if (groundTruths == 0)
                    {
                        curve.Fill(-1);
                        finalRecall = -1;
                        continue;
                    }
                    finalRecall = PrecisionRecallPoints(a, Limits[m], t, groundTruths, out int points);
                    InterpolatePrecision(points, curve);
                }
    }

    /// <summary>
    /// Orders the collected detections by score, highest first; equal scores keep collection order, which is
    /// ascending image id, then rank within the image — the reference's stable merge sort.
    /// </summary>
    private void RankAcrossImages()
    {
        for (int i = 0; i < Count; i++) _order[i] = i;
        _order.AsSpan(0, Count).Sort(new ScoreDescendingThenIndex(_scores));
    }

    /// <summary>
    /// Walks the ranked detections within the limit, skipping ignored ones, and fills cumulative precision and recall
    /// per non-ignored detection; returns the recall after the last one (0 without any).
    /// </summary>
    private double PrecisionRecallPoints(int a, int limit, int t, long groundTruths, out int points)
    {
        int bit = 1 << t;
        long truePositives = 0, falsePositives = 0;
        points = 0;
        foreach (int i in _order.AsSpan(0, Count))
        {
            if (_ranks[i] >= limit || (_ignored[i * AreaCount + a] & bit) != 0) continue;
            if ((_truePositive[i * AreaCount + a] & bit) != 0) truePositives++;
            else falsePositives++;
            _precisionAt[points] = truePositives / (double)(truePositives + falsePositives);
            _recallAt[points] = truePositives / (double)groundTruths;
            points++;
        }
        return truePositives / (double)groundTruths;
    }

    /// <summary>
    /// The precision envelope (each precision replaced by the maximum at any later point) read at the first point whose
    /// recall reaches each recall threshold; 0 where recall never gets there.
    /// </summary>
    /// <param name="curve">Output, [R = 101].</param>
    private void InterpolatePrecision(int points, Span<double> curve)
    {
        for (int i = points - 2; i >= 0; i--)
            _precisionAt[i] = Math.Max(_precisionAt[i], _precisionAt[i + 1]);
        int point = 0;
        for (int r = 0; r < RecallThresholds.Length; r++)
        {
            while (point < points && _recallAt[point] < RecallThresholds[r]) point++;
            curve[r] = point < points ? _precisionAt[point] : 0;
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
        (_order, _precisionAt, _recallAt) = (new int[size], new double[size], new double[size]);
    }

    /// <summary>Total order "higher score first, then lower index": an unstable sort under it gives the stable result.</summary>
    private readonly struct ScoreDescendingThenIndex(double[] scores) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            int byScore = scores[b].CompareTo(scores[a]);
            return byScore != 0 ? byScore : a.CompareTo(b);
        }
    }
}
