using Pisa.Kernels;
using Pisa.Training.Data;
using static TorchSharp.torch;

namespace Pisa.Training.Metrics;

/// <summary>
/// The effect CARL claims, measured on the val split: how closely positives' classification scores follow their
/// localisation quality. A candidate (a proposal after the box head, or an anchor) is positive when its regressed box
/// overlaps a non-crowd ground truth by IoU ≥ <see cref="PositiveIoU"/>; with its best-IoU ground truth g, its score is
/// the predicted probability of g's class and its IoU that overlap. <see cref="Pearson"/> correlates the two over every
/// positive of every batch added.
/// </summary>
/// <remarks>
/// Each batch is reduced on its device to six moments (count, means, centred sums of squares and products; one host
/// transfer) and merged on the host with Chan, Golub and LeVeque's pairwise update, which stays accurate where
/// running sums of raw squares would cancel.
/// </remarks>
public sealed class ScoreIoUCorrelation
{
    /// <summary>A candidate is positive from this IoU with its best ground truth on.</summary>
    public const double PositiveIoU = 0.5;

    /// <summary>A variance (per positive) at or below this counts as none: equal scores or equal IoUs correlate with nothing.</summary>
    public const double MinVariance = 1e-12;

    private double meanScore, meanIoU, squaresScore, squaresIoU, products;

    /// <summary>Positives seen so far.</summary>
    public long Count { get; private set; }

    /// <summary>The Pearson correlation of score and IoU over the positives, or null when it is undefined (fewer than two positives, or no variance in either).</summary>
    public double? Pearson =>
        Count < 2 || squaresScore / Count <= MinVariance || squaresIoU / Count <= MinVariance
            ? null
            : Math.Clamp(products / Math.Sqrt(squaresScore * squaresIoU), -1, 1);

    /// <summary>Adds the candidates of one batch.</summary>
    /// <param name="ious"><c>[B, N, G]</c> IoU of candidate n's regressed box with ground truth g (for class-specific
    /// regression, the box regressed for g's class).</param>
    /// <param name="probabilities"><c>[B, N, C]</c> predicted probability of each class (no background column).</param>
    /// <param name="candidateMask"><c>[B, N]</c> real candidates.</param>
    /// <param name="gtLabels"><c>[B, G]</c> int64 labels in 0..C-1.</param>
    /// <param name="gtMask"><c>[B, G]</c> real (non-crowd) ground truths.</param>
    public void Add(Tensor ious, Tensor probabilities, Tensor candidateMask, Tensor gtLabels, Tensor gtMask)
    {
        using var scope = NewDisposeScope();
        var (score, iou, positive) = Positives(ious, probabilities, candidateMask, gtLabels, gtMask);
        double[] m = Moments(score, iou, positive).cpu().data<double>().ToArray();
        Merge((long)m[0], m[1], m[2], m[3], m[4], m[5]);
    }

    /// <summary>
    /// Adds a two-stage batch: proposals <c>[B, K, 4]</c> (mask <c>[B, K]</c>) with the box head's class logits
    /// <c>[B, K, C+1]</c> (background last) and class-specific deltas <c>[B, K, 4C]</c>. Each proposal is compared with
    /// each ground truth through the box regressed for that gt's class, gathered straight from <c>[B, K, C, 4]</c> (no
    /// <c>[B, K, G, 4C]</c> copy, which COCO's 80 classes would make large).
    /// </summary>
    public void AddBoxHead(Tensor proposals, Tensor proposalMask, Tensor classLogits, Tensor deltas, DetectionBatch batch, BoxCoder coder)
    {
        using var scope = NewDisposeScope();
        var (h, w) = ((int)batch.Images.shape[2], (int)batch.Images.shape[3]);
        long b = proposals.shape[0], k = proposals.shape[1], g = batch.GtBoxes.shape[1], c = classLogits.shape[^1] - 1;
        var gtClass = batch.GtLabels.clamp(0, c - 1).view(b, 1, g, 1).expand(b, k, g, 4);
        var deltasPerGt = deltas.reshape(b, k, c, 4).gather(2, gtClass);                                                       // [B, K, G, 4]
        var regressed = coder.Decode(proposals.unsqueeze(2), deltasPerGt, h, w);                                                               // [B, K, G, 4]
        var probabilities = classLogits.softmax(-1)[.., .., ..(int)c];
        Add(Boxes.AlignedOverlaps(regressed, batch.GtBoxes.unsqueeze(1)), probabilities, proposalMask, batch.GtLabels, batch.GtMask);
    }

    /// <summary>Adds a single-stage batch: anchors <c>[N, 4]</c>, sigmoid class logits <c>[B, N, C]</c> and class-agnostic deltas <c>[B, N, 4]</c>.</summary>
    public void AddDenseHead(Tensor anchors, Tensor classLogits, Tensor deltas, DetectionBatch batch, BoxCoder coder)
    {
        using var scope = NewDisposeScope();
        var (h, w) = ((int)batch.Images.shape[2], (int)batch.Images.shape[3]);
        var regressed = coder.Decode(anchors, deltas, h, w);                                                                                  // [B, N, 4]
        var candidates = ones(regressed.shape[0], regressed.shape[1], ScalarType.Bool, regressed.device);
        Add(Boxes.Overlaps(regressed, batch.GtBoxes), classLogits.sigmoid(), candidates, batch.GtLabels, batch.GtMask);
    }

    /// <summary>Each candidate's score and IoU with its best-IoU ground truth, and whether it is positive.</summary>
    /// <returns>score <c>[B, N]</c>, IoU <c>[B, N]</c> (-1 where there is no ground truth) and positive <c>[B, N]</c> bool.</returns>
    public static (Tensor Score, Tensor IoU, Tensor Positive) Positives(Tensor ious, Tensor probabilities, Tensor candidateMask, Tensor gtLabels, Tensor gtMask)
    {
        using var scope = NewDisposeScope();
        var valid = candidateMask.unsqueeze(-1).logical_and(gtMask.unsqueeze(-2));                  // [B, N, G]
        var (best, gt) = ious.masked_fill(valid.logical_not(), -1).max(-1);                          // [B, N]
        var label = gtLabels.gather(1, gt).clamp(0, probabilities.shape[^1] - 1);                    // [B, N]
        var score = probabilities.gather(-1, label.unsqueeze(-1)).squeeze(-1);                       // [B, N]
        var positive = best >= PositiveIoU;
        return (score.MoveToOuterDisposeScope(), best.MoveToOuterDisposeScope(), positive.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The moments of the positive (score, IoU) pairs, float64 <c>[6]</c>: count, mean score, mean IoU, Σ(score − mean)²,
    /// Σ(IoU − mean)², Σ(score − mean)(IoU − mean). Without positives every entry is 0.
    /// </summary>
    public static Tensor Moments(Tensor score, Tensor iou, Tensor positive)
    {
        using var scope = NewDisposeScope();
        var weight = positive.to(ScalarType.Float64);
        var (x, y) = (score.to(ScalarType.Float64), iou.to(ScalarType.Float64));
        var count = weight.sum();
        var meanX = (x * weight).sum() / count.clamp_min(1);
        var meanY = (y * weight).sum() / count.clamp_min(1);
        var dx = (x - meanX) * weight;
        var dy = (y - meanY) * weight;
        return stack([count, meanX, meanY, dx.square().sum(), dy.square().sum(), (dx * dy).sum()]).MoveToOuterDisposeScope();
    }

    private void Merge(long count, double batchMeanScore, double batchMeanIoU, double batchSquaresScore, double batchSquaresIoU, double batchProducts)
    {
        if (count == 0) return;
        long total = Count + count;
        double share = (double)count / total, cross = (double)Count * count / total;
        double dScore = batchMeanScore - meanScore, dIoU = batchMeanIoU - meanIoU;
        squaresScore += batchSquaresScore + dScore * dScore * cross;
        squaresIoU += batchSquaresIoU + dIoU * dIoU * cross;
        products += batchProducts + dScore * dIoU * cross;
        meanScore += dScore * share;
        meanIoU += dIoU * share;
        Count = total;
    }
}
