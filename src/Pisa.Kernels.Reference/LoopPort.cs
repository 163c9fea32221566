using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Reference;

/// <summary>
/// A loop-faithful port of the reference algorithms, written straight from ALGORITHMS.md with the reference's shape:
/// one image at a time, loops over gts, classes, bins and nms_match groups, host round-trips where the reference has
/// them. It is the differential oracle of the fused kernels and the baseline of <c>pisa bench kernels</c>; it never
/// ships in the product's per-step code. Behaviour is <c>compat: mmdet</c> with deterministic tie-breaking (lower
/// index first), like the kernels; the ISR-P path also takes <c>Compat.Corrected</c> (Q3 gt offsets, Q6 keys).
/// </summary>
public static class LoopPort
{
    /// <summary>Max-IoU assignment of one image.</summary>
    /// <param name="boxes">[N, 4].</param>
    /// <param name="gts">[G, 4].</param>
    /// <param name="gtLabels">[G].</param>
    /// <returns>gt_inds [N] (1-based, 0 negative, -1 ignored), max_overlaps [N], labels [N].</returns>
    public static (long[] GtInds, float[] MaxOverlaps, long[] Labels) Assign(Tensor boxes, Tensor gts, Tensor gtLabels, Assign.Thresholds t)
    {
        long n = boxes.shape[0], g = gts.shape[0];
        var gtInds = new long[n];
        var maxOverlaps = new float[n];
        var labels = new long[n];
        Array.Fill(labels, -1L);
        if (g == 0) return (gtInds, maxOverlaps, labels);
        var rows = new float[g][];
        for (long j = 0; j < g; j++) // one gt at a time
            rows[j] = Host<float>(Boxes.Overlaps(gts[j].unsqueeze(0), boxes)[0]);
        var argmax = new long[n];
        for (long i = 0; i < n; i++)
        {
            float best = rows[0][i];
            for (long j = 1; j < g; j++) if (rows[j][i] > best) { best = rows[j][i]; argmax[i] = j; }
            maxOverlaps[i] = best;
            gtInds[i] = best >= 0 && best < t.NegIoU ? 0 : -1;
            if (best >= t.PosIoU) gtInds[i] = argmax[i] + 1;
        }
        if (t.MatchLowQuality)
            for (long j = 0; j < g; j++)
            {
                float gtMax = rows[j].Max();
                if (gtMax < t.MinPosIoU) continue;
                for (long i = 0; i < n; i++)
                    if (rows[j][i] == gtMax)
                    {
                        gtInds[i] = j + 1;
                        if (!t.GtMaxAssignAll) break;
                    }
            }
        var gtLabelValues = Host<long>(gtLabels);
        for (long i = 0; i < n; i++) if (gtInds[i] > 0) labels[i] = gtLabelValues[gtInds[i] - 1];
        return (gtInds, maxOverlaps, labels);
    }

    /// <summary>Uniform choice of <paramref name="count"/> items without replacement (all when fewer).</summary>
    public static long[] RandomChoice(IReadOnlyList<long> items, long count, Random random) =>
        items.OrderBy(_ => random.Next()).Take((int)Math.Min(count, items.Count)).ToArray();

    /// <summary>Instance-balanced positives of one image, per gt in a loop; <c>mmdet</c> top-up (quirk Q1).</summary>
    public static long[] InstanceBalancedPositives(long[] gtInds, long budget, Random random)
    {
        var positives = Enumerable.Range(0, gtInds.Length).Where(i => gtInds[i] > 0).Select(i => (long)i).ToList();
        if (positives.Count <= budget) return positives.ToArray();
        var gts = positives.Select(i => gtInds[i]).Distinct().Order().ToList();
        long perGt = (long)Math.Round(budget / (double)gts.Count, MidpointRounding.ToEven) + 1;
        var sampled = new List<long>();
        foreach (long gt in gts)
            sampled.AddRange(RandomChoice(positives.Where(i => gtInds[i] == gt).ToList(), perGt, random));
        if (sampled.Count > budget) return RandomChoice(sampled, budget, random).Order().ToArray();
        if (sampled.Count < budget) sampled.AddRange(RandomChoice(positives, budget - sampled.Count, random)); // Q1: from all positives
        return sampled.Distinct().Order().ToArray();
    }

    /// <summary>IoU-balanced negatives of one image with bins in a loop; <paramref name="firstCall"/> per quirk Q2.</summary>
    public static long[] IoUBalancedNegatives(long[] gtInds, float[] maxOverlaps, long budget, IoUBalancedSettings s, bool firstCall, Random random)
    {
        var negatives = Enumerable.Range(0, gtInds.Length).Where(i => gtInds[i] == 0).Select(i => (long)i).ToList();
        if (negatives.Count <= budget) return negatives.ToArray();
        double floorThr = s.FloorThr == -1 && !firstCall ? 0 : s.FloorThr;
        List<long> floorSet, balanced;
        if (floorThr > 0)
        {
            floorSet = negatives.Where(i => maxOverlaps[i] >= 0 && maxOverlaps[i] < floorThr).ToList();
            balanced = negatives.Where(i => maxOverlaps[i] >= floorThr).ToList();
        }
        else if (floorThr == 0)
        {
            floorSet = negatives.Where(i => maxOverlaps[i] == 0).ToList();
            balanced = negatives.Where(i => maxOverlaps[i] > 0).ToList();
        }
        else
        {
            floorSet = [];
            balanced = negatives;
        }
        long balancedBudget = (long)Math.Floor(budget * (1 - s.FloorFraction));
        List<long> balancedSampled;
        if (balanced.Count > balancedBudget)
        {
            if (s.NumBins >= 2)
            {
                float floor = floorThr > 0 ? (float)floorThr : 0f;
                float width = (maxOverlaps.Max() - floor) / s.NumBins;
                long perBin = balancedBudget / s.NumBins;
                balancedSampled = [];
                for (int bin = 0; bin < s.NumBins; bin++)
                {
                    float start = floor + bin * width, end = floor + (bin + 1) * width;
                    balancedSampled.AddRange(RandomChoice(balanced.Where(i => maxOverlaps[i] >= start && maxOverlaps[i] < end).ToList(), perBin, random));
                }
                if (balancedSampled.Count < balancedBudget)
                    balancedSampled.AddRange(RandomChoice(balanced.Except(balancedSampled).ToList(), balancedBudget - balancedSampled.Count, random));
            }
            else balancedSampled = RandomChoice(balanced, balancedBudget, random).ToList();
        }
        else balancedSampled = balanced;
        var sampled = RandomChoice(floorSet, budget - balancedSampled.Count, random).Concat(balancedSampled).ToList();
        if (sampled.Count < budget) sampled.AddRange(RandomChoice(negatives.Except(sampled).ToList(), budget - sampled.Count, random));
        return sampled.Distinct().Order().ToArray();
    }

    /// <summary>nms_match as the reference's CPU loop: by descending score, an unsuppressed box takes every later unsuppressed
    /// box with IoU &gt;= thr (no eps).</summary>
    /// <param name="boxes">[M][4] float32 corners.</param>
    public static List<long[]> NmsMatch(float[][] boxes, float[] scores, double iouThr)
    {
        int m = scores.Length;
        var order = Enumerable.Range(0, m).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var suppressed = new bool[m];
        var groups = new List<long[]>();
        for (int a = 0; a < m; a++)
        {
            int i = order[a];
            if (suppressed[i]) continue;
            var group = new List<long> { i };
            float areaI = (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1]);
            for (int b = a + 1; b < m; b++)
            {
                int j = order[b];
                if (suppressed[j]) continue;
                float w = Math.Max(0f, Math.Min(boxes[i][2], boxes[j][2]) - Math.Max(boxes[i][0], boxes[j][0]));
                float h = Math.Max(0f, Math.Min(boxes[i][3], boxes[j][3]) - Math.Max(boxes[i][1], boxes[j][1]));
                float inter = w * h;
                float areaJ = (boxes[j][2] - boxes[j][0]) * (boxes[j][3] - boxes[j][1]);
                if (inter / (areaI + areaJ - inter) >= iouThr)
                {
                    suppressed[j] = true;
                    group.Add(j);
                }
            }
            groups.Add(group.ToArray());
        }
        return groups;
    }

    /// <summary>Score-HLR negatives with ISR-N weights for one image, a loop over nms_match groups as in the reference.</summary>
    /// <returns>the chosen candidate indices in HLR order and their weights.</returns>
    public static (long[] Selected, float[] Weights) ScoreHlrNegatives(Tensor clsScore, Tensor bboxPred, Tensor rois, long budget, ScoreHlrSettings s,
        ReweightSettings isrN, BoxCoder coder, Random random)
    {
        long m = clsScore.shape[0], classes = clsScore.shape[1] - 1;
        if (m == 0) return ([], []);
        var probabilities = clsScore.softmax(-1);
        var (maxScoreT, argmaxT) = probabilities[.., ..(int)classes].max(-1);
        var loss = Host<float>(-clsScore.log_softmax(-1)[.., (int)classes]);
        var maxScore = Host<float>(maxScoreT);
        var valid = Enumerable.Range(0, (int)m).Where(i => maxScore[i] > s.ScoreThr).Select(i => (long)i).ToArray();
        var invalid = Enumerable.Range(0, (int)m).Where(i => maxScore[i] <= s.ScoreThr).Select(i => (long)i).ToList();
        long expected = Math.Min(m, budget);
        if (valid.Length == 0)
            return (RandomChoice(Enumerable.Range(0, (int)m).Select(i => (long)i).ToList(), expected, random), Enumerable.Repeat(1f, (int)expected).ToArray());
        var validIndex = tensor(valid);
        var decoded = Host<float>(coder.Decode(rois.index_select(0, validIndex),
            Boxes.DeltasOfClass(bboxPred.index_select(0, validIndex), argmaxT.index_select(0, validIndex))));
        var boxes = Enumerable.Range(0, valid.Length).Select(i => decoded.AsSpan(i * 4, 4).ToArray()).ToArray();
        var scores = valid.Select(i => maxScore[i]).ToArray();
        var importance = new float[valid.Length];
        foreach (var group in NmsMatch(boxes, scores, s.IoUThr)) // one group at a time, as the reference
            for (int j = 0; j < group.Length; j++)
                importance[group[j]] = (float)(valid.Length - j) + scores[group[j]];
        var byImportance = Enumerable.Range(0, valid.Length).OrderByDescending(i => importance[i]).ThenBy(i => i).ToArray();
        long numHlr = Math.Min(valid.Length, expected);
        var selected = byImportance.Take((int)numHlr).Select(i => valid[i]).Concat(RandomChoice(invalid, expected - numHlr, random)).ToArray();
        float upper = Math.Max(expected, valid.Length);
        var weights = new float[expected];
        for (int r = 0; r < expected; r++) weights[r] = (upper - Math.Min(r, numHlr - 1)) / upper;
        for (int r = 0; r < expected; r++) weights[r] = (float)Math.Pow(isrN.Bias + (1 - isrN.Bias) * weights[r], isrN.K);
        float sumLoss = 0, sumWeighted = 0;
        for (int r = 0; r < expected; r++) { sumLoss += loss[selected[r]]; sumWeighted += loss[selected[r]] * weights[r]; }
        for (int r = 0; r < expected; r++) weights[r] *= sumLoss / sumWeighted;
        return (selected, weights);
    }

    /// <summary>
    /// IoU-HLR ranks with the reference's loops: over classes and, inside, over the class's gts. <see cref="Compat.Mmdet"/>
    /// sorts the float32 key <c>iou + (M - local rank)</c> (Q6); <see cref="Compat.Corrected"/> orders by (local rank, then
    /// IoU descending). Ties by index.
    /// </summary>
    public static long[] IoUHlrRanks(float[] ious, long[] gtIds, long[] labels, Compat compat = Compat.Mmdet)
    {
        int p = ious.Length;
        var rank = new long[p];
        if (p == 0) return rank;
        long maxPerClass = labels.GroupBy(l => l).Max(g => g.LongCount());
        var keys = (float[])ious.Clone();
        var localRank = new long[p];
        foreach (long label in labels.Distinct())
        {
            var inClass = Enumerable.Range(0, p).Where(i => labels[i] == label).ToArray();
            foreach (long gt in inClass.Select(i => gtIds[i]).Distinct())
            {
                var ofGt = inClass.Where(i => gtIds[i] == gt).OrderByDescending(i => ious[i]).ThenBy(i => i).ToArray();
                for (int r = 0; r < ofGt.Length; r++)
                {
                    keys[ofGt[r]] = ious[ofGt[r]] + (float)(maxPerClass - r);
                    localRank[ofGt[r]] = r;
                }
            }
            var ordered = compat == Compat.Mmdet
                ? inClass.OrderByDescending(i => keys[i]).ThenBy(i => i).ToArray()
                : inClass.OrderBy(i => localRank[i]).ThenByDescending(i => ious[i]).ThenBy(i => i).ToArray();
            for (int r = 0; r < ordered.Length; r++) rank[ordered[r]] = r;
        }
        return rank;
    }

    /// <summary>
    /// The reference's batch-unique gt ids, its loop over the images' sampling results: each image's positives' 0-based gt
    /// indices plus an offset. <see cref="Compat.Mmdet"/> (Q3): <c>last_max_gt</c>, set after each image with positives to that
    /// image's largest 0-based index + 1 (not added to the previous offset). <see cref="Compat.Corrected"/>: the gt counts of the
    /// images before.
    /// </summary>
    /// <param name="positiveGts">per image, the 0-based gt index of each positive, in sample order.</param>
    /// <param name="gtCounts">per image, its number of gts.</param>
    /// <returns>per image, the batch gt id of each positive.</returns>
    public static long[][] BatchGtIds(long[][] positiveGts, long[] gtCounts, Compat compat)
    {
        var ids = new long[positiveGts.Length][];
        long lastMaxGt = 0, running = 0;
        for (int i = 0; i < positiveGts.Length; i++)
        {
            long offset = compat == Compat.Mmdet ? lastMaxGt : running;
            ids[i] = positiveGts[i].Select(g => g + offset).ToArray();
            if (positiveGts[i].Length != 0) lastMaxGt = positiveGts[i].Max() + 1;
            running += gtCounts[i];
        }
        return ids;
    }

    /// <summary>The sigmoid focal loss of one row summed over its C classes, element by element (label C = all-zero targets).</summary>
    public static double SigmoidFocalRow(float[] logits, long label, double gamma = 2.0, double alpha = 0.25)
    {
        double sum = 0;
        for (int j = 0; j < logits.Length; j++)
        {
            double x = logits[j], p = 1 / (1 + Math.Exp(-x));
            // -log p = softplus(-x), -log(1-p) = softplus(x).
            sum += j == label
                ? alpha * Math.Pow(1 - p, gamma) * Softplus(-x)
                : (1 - alpha) * Math.Pow(p, gamma) * Softplus(x);
        }
        return sum;
    }

    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>
    /// ISR-P over flat samples, with the HLR loops above: softmax cross entropy over C+1 logits, or (<paramref name="sigmoid"/>, a
    /// single-stage head) the sigmoid focal loss per element over C logits, as the reference normalises with the head's own loss.
    /// </summary>
    /// <returns>the new label weights.</returns>
    public static float[] IsrP(Tensor clsScore, Tensor bboxPred, Tensor rois, long[] labels, float[] labelWeights, Tensor bboxTargets,
        long[] gtIds, long numClasses, ReweightSettings s, BoxCoder coder, bool sigmoid = false, Compat compat = Compat.Mmdet)
    {
        var positives = Enumerable.Range(0, labels.Length).Where(i => labels[i] >= 0 && labels[i] < numClasses).ToArray();
        var result = (float[])labelWeights.Clone();
        if (positives.Length == 0) return result;
        var index = tensor(positives.Select(i => (long)i).ToArray());
        var posLabels = tensor(positives.Select(i => labels[i]).ToArray());
        var posRois = rois.index_select(0, index);
        var predicted = coder.Decode(posRois, Boxes.DeltasOfClass(bboxPred.index_select(0, index), posLabels));
        var target = coder.Decode(posRois, bboxTargets.index_select(0, index));
        var ious = Host<float>(Boxes.AlignedOverlaps(predicted, target));
        var ranks = IoUHlrRanks(ious, positives.Select(i => gtIds[i]).ToArray(), positives.Select(i => labels[i]).ToArray(), compat);
        long m = positives.Select(i => labels[i]).GroupBy(l => l).Max(g => g.LongCount());
        double[] loss;
        if (sigmoid)
        {
            var logits = Host<float>(clsScore.index_select(0, index));
            int c = (int)clsScore.shape[1];
            loss = positives.Select((i, k) => SigmoidFocalRow(logits[(k * c)..((k + 1) * c)], labels[i])).ToArray();
        }
        else loss = Host<float>(Loss.CrossEntropy(clsScore.index_select(0, index), posLabels)).Select(v => (double)v).ToArray();
        var weights = new float[positives.Length];
        double before = 0, after = 0;
        for (int k = 0; k < positives.Length; k++)
        {
            float w = labelWeights[positives[k]] * (m - ranks[k]) / (float)m;
            weights[k] = (float)Math.Pow(s.Bias + (1 - s.Bias) * w, s.K);
            before += loss[k] * labelWeights[positives[k]];
            after += loss[k] * weights[k];
        }
        for (int k = 0; k < positives.Length; k++) result[positives[k]] = (float)(weights[k] * (before / after));
        return result;
    }

    /// <summary>CARL as the reference computes it: vectorised over the positives (it has no loop); softmax head, smooth L1 beta 1.</summary>
    public static double Carl(Tensor clsScore, long[] labels, Tensor bboxPred, Tensor bboxTargets, long numClasses, ReweightSettings s)
    {
        var positives = Enumerable.Range(0, labels.Length).Where(i => labels[i] >= 0 && labels[i] < numClasses).Select(i => (long)i).ToArray();
        if (positives.Length == 0) return 0;
        var index = tensor(positives);
        var posLabels = tensor(positives.Select(i => labels[i]).ToArray());
        var score = clsScore.softmax(-1).index_select(0, index).gather(1, posLabels.unsqueeze(1)).squeeze(1);
        var c = (s.Bias + (1 - s.Bias) * score).pow(s.K);
        c = c * (positives.Length / c.sum());
        var deltas = Boxes.DeltasOfClass(bboxPred.index_select(0, index), posLabels);
        var loss = Loss.SmoothL1(deltas, bboxTargets.index_select(0, index)) / labels.Length;
        return (loss * c.unsqueeze(1)).sum().item<float>();
    }

    /// <summary>
    /// A tensor's values on the host as one span copy: TensorAccessor's ToArray goes element by element (~15x slower),
    /// which would time the copy rather than the loops.
    /// </summary>
    private static T[] Host<T>(Tensor t) where T : unmanaged => MemoryMarshal.Cast<byte, T>(t.contiguous().cpu().bytes).ToArray();
}

/// <summary>Plain greedy NMS, the textbook loop: keep the best remaining box, drop every later one with IoU &gt; thr.</summary>
public static class LoopNms
{
    /// <summary>Kept indices in descending score order.</summary>
    public static long[] Keep(float[][] boxes, float[] scores, double iouThr)
    {
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var removed = new bool[scores.Length];
        var keep = new List<long>();
        foreach (int i in order)
        {
            if (removed[i]) continue;
            keep.Add(i);
            foreach (int j in order)
            {
                float w = Math.Max(0f, Math.Min(boxes[i][2], boxes[j][2]) - Math.Max(boxes[i][0], boxes[j][0]));
                float h = Math.Max(0f, Math.Min(boxes[i][3], boxes[j][3]) - Math.Max(boxes[i][1], boxes[j][1]));
                float inter = w * h;
                float union = (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1]) + (boxes[j][2] - boxes[j][0]) * (boxes[j][3] - boxes[j][1]) - inter;
                if (j != i && inter / union > iouThr) removed[j] = true;
            }
        }
        return keep.ToArray();
    }
}
