using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>The exponent and bias of PISA's weight shaping <c>(bias + (1 - bias) w)^k</c>: ISR-P, ISR-N and CARL.</summary>
public sealed record ReweightSettings(double K, double Bias)
{
    /// <summary>ISR-P defaults: k 2, bias 0.</summary>
    public static ReweightSettings IsrPDefault { get; } = new(2, 0);

    /// <summary>ISR-N defaults: k 0.5, bias 0.</summary>
    public static ReweightSettings IsrNDefault { get; } = new(0.5, 0);

    /// <summary>CARL defaults: k 1, bias 0.2.</summary>
    public static ReweightSettings CarlDefault { get; } = new(1, 0.2);
}

/// <summary>
/// PISA's re-weighting (ALGORITHMS.md, "Re-weighting"): ISR-P on the positives' label weights, ISR-N on Score-HLR's
/// negatives, CARL's extra box loss, and the batch-unique gt ids they group by. Samples are flat <c>[N]</c> rows (a batch's sampled RoIs, or all anchors);
/// positives are the rows with a label in <c>0..C-1</c>.
/// </summary>
public static class Reweight
{
    /// <summary>
    /// ISR-P: each positive's weight becomes <c>(bias + (1-bias) * label_weight * (M - r)/M)^k</c> (r its IoU-HLR rank, the
    /// IoU taken between the boxes decoded from the predicted and the target deltas), then all positive weights are scaled so
    /// the positives' classification loss sum is unchanged. Negatives and the other targets are untouched; scores and
    /// predictions are detached.
    /// </summary>
    /// <param name="clsScore">[N, C+1] softmax logits, or [N, C] sigmoid logits when <paramref name="sigmoid"/>.</param>
    /// <param name="bboxPred">[N, 4C] or [N, 4].</param>
    /// <param name="rois">[N, 4] the boxes the deltas are relative to.</param>
    /// <param name="labels">[N] int64, C = background; a negative label (padding) is neither positive nor negative.</param>
    /// <param name="labelWeights">[N].</param>
    /// <param name="bboxTargets">[N, 4] target deltas.</param>
    /// <param name="gtIds">[N] int64 batch-unique gt id of each positive.</param>
    /// <param name="classificationLoss">[N] the head's unreduced per-row classification loss when the caller has it already (its
    /// value is used, detached): saves a second pass over <c>[N, C]</c>. Null: <see cref="ClassificationLoss"/> of the scores.</param>
    /// <returns>[N] the new label weights.</returns>
    public static Tensor IsrP(Tensor clsScore, Tensor bboxPred, Tensor rois, Tensor labels, Tensor labelWeights, Tensor bboxTargets,
        Tensor gtIds, long numClasses, ReweightSettings settings, BoxCoder coder, Compat compat, bool sigmoid = false,
        Tensor? classificationLoss = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var positive = (labels >= 0) & (labels < numClasses);
        // Predicted and target deltas decode in one call ([2, N, 4]) and meet in one aligned overlap: half the ops of two.
        var targets = bboxTargets.dtype == bboxPred.dtype ? bboxTargets : bboxTargets.to(bboxPred.dtype);
        var deltas = stack([Boxes.DeltasOfClass(bboxPred.detach(), labels), targets]);
        var ious = Boxes.AlignedOverlapsOfPair(coder.Decode(rois, deltas));
        var (rank, maxPerClass) = Hlr.IoU(ious, gtIds, labels, positive, numClasses, compat);

        var m = maxPerClass.to(float32);
        var weights = labelWeights * ((m - rank.to(float32)) / m.clamp_min(1));
        weights = BiasedPower(weights, settings.Bias, settings.K);

        var loss = (classificationLoss ?? ClassificationLoss(clsScore.detach(), labels, sigmoid)).detach();
        var positiveLoss = where(positive, loss, 0f);
        var ratio = SafeRatio((positiveLoss * labelWeights).sum(), (positiveLoss * weights).sum());
        return where(positive, weights * ratio, labelWeights).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ISR-N: the label weights of the negatives Score-HLR chose. A negative of importance rank r among the U =
    /// <c>max(expected, valid)</c> weighs <c>(U - r)/U</c> (random fills weigh as the last HLR pick), shaped by
    /// <see cref="BiasedPower"/>, then all are rescaled so the chosen negatives' background cross-entropy sum is unchanged.
    /// An image without a valid negative keeps weight 1 (as the reference does with its plain random choice).
    /// </summary>
    /// <returns>[B, N] the chosen negatives' weights, 1 elsewhere.</returns>
    public static Tensor IsrN(ScoreHlrSample sample, ReweightSettings settings)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var numValid = sample.ValidCount;
        var hlrCount = minimum(numValid, sample.Expected).unsqueeze(-1);
        var upperBound = maximum(sample.Expected, numValid).to(float32).unsqueeze(-1);
        // HLR picks come first in the order (rank r < hlrCount); a random fill ranks as the last HLR pick.
        var rank = minimum(sample.Order, hlrCount - 1).to(float32);
        // (U - r) / U in place: -r + U is U - r exactly.
        var weight = BiasedPower(rank.neg_().add_(upperBound).div_(upperBound), settings.Bias, settings.K);
        var chosenLoss = where(sample.Selected, sample.BackgroundLoss, 0f);
        var ratio = SafeRatio(chosenLoss.sum(-1, keepdim: true), (chosenLoss * weight).sum(-1, keepdim: true));
        weight.mul_(ratio);
        return where(sample.Selected & (numValid > 0).unsqueeze(-1), weight, 1f).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// CARL: <c>c_i = (bias + (1-bias) s_i)^k</c> for the gt-class probability s_i of each positive (not detached),
    /// normalised to sum to the number of positives; the loss is <c>sum_i c_i * sum_coords box_loss_i / avg_factor</c>.
    /// No positives gives a zero that stays connected to the graph.
    /// </summary>
    /// <param name="clsScore">[N, C+1] (softmax) or [N, C] (sigmoid).</param>
    /// <param name="labels">[N] int64.</param>
    /// <param name="bboxPred">[N, 4C] or [N, 4].</param>
    /// <param name="bboxTargets">[N, 4].</param>
    /// <param name="avgFactor">[] divisor; default the number of rows.</param>
    /// <returns>[] the CARL loss.</returns>
    public static Tensor Carl(Tensor clsScore, Tensor labels, Tensor bboxPred, Tensor bboxTargets, long numClasses,
        ReweightSettings settings, bool sigmoid, BoxLoss boxLoss, Tensor? avgFactor = null)
    {
        using var scope = NewDisposeScope();
        var c = CarlWeights(clsScore, labels, numClasses, settings, sigmoid);
        var boxLossPerRow = boxLoss.Compute(Boxes.DeltasOfClass(bboxPred, labels), bboxTargets).sum(-1);
        var divisor = avgFactor ?? tensor((double)labels.shape[0], c.dtype, labels.device);
        // Rows that are not positive multiply by c = 0, so the sum stays connected to the graph even without positives.
        return ((c * boxLossPerRow).sum() / divisor).MoveToOuterDisposeScope();
    }

    /// <summary>CARL's per-sample weights <c>c_i</c> (not detached), normalised to sum to the number of positives.</summary>
    /// <param name="clsScore">[N, C+1] (softmax) or [N, C] (sigmoid).</param>
    /// <param name="labels">[N] int64.</param>
    /// <returns>[N], 0 for rows that are not positive.</returns>
    public static Tensor CarlWeights(Tensor clsScore, Tensor labels, long numClasses, ReweightSettings settings, bool sigmoid)
    {
        using var scope = NewDisposeScope();
        var positive = (labels >= 0) & (labels < numClasses);
        var gtClass = labels.clamp(0, numClasses - 1).unsqueeze(-1);
        // A sigmoid is per element: take each row's gt-class logit first, so the work (and its gradient) is O(N), not O(N C).
        var gtClassScore = (sigmoid ? clsScore.gather(-1, gtClass).sigmoid() : clsScore.softmax(-1).gather(-1, gtClass)).squeeze(-1);
        // c is finite, so c * 0/1 and the selection agree bit for bit, gradients too.
        var c = where(positive, BiasedPower(gtClassScore, settings.Bias, settings.K), 0f);
        var numPositives = positive.sum(type: gtClassScore.dtype);
        return (c * (numPositives / c.sum().clamp_min(1e-12))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Batch-unique gt ids of the sampled positives. <see cref="Compat.Corrected"/> offsets each image's gts by the number of
    /// gts of the images before it. <see cref="Compat.Mmdet"/> reproduces Q3: the offset is the previous image with positives'
    /// largest positive gt index + 1, not a running total, so ids of different images can collide.
    /// </summary>
    /// <param name="gtInds">[B, S] int64 1-based gt of each sample, &lt;= 0 when not positive.</param>
    /// <param name="gtCount">[B] int64 number of gts of each image.</param>
    /// <returns>[B, S] int64, -1 for non-positives.</returns>
    public static Tensor BatchGtIds(Tensor gtInds, Tensor gtCount, Compat compat)
    {
        using var scope = NewDisposeScope();
        var positive = gtInds > 0;
        var local = gtInds - 1;
        Tensor offset;
        if (compat == Compat.Corrected)
        {
            offset = gtCount.cumsum(0) - gtCount;
        }
        else
        {
            long b = gtInds.shape[0];
            // A sample that is not positive has a local index below 0, so an image's max is its largest positive gt
            // index, or below 0 without positives.
            var imageMax = local.amax([1]);
            var images = Constants.Range(b, gtInds.device);
            var lastWithPositives = where(imageMax >= 0, images, -1L).cummax(0).values;
            // The previous image with positives: index 0 of [0, max + 1 of each image] is "none".
            var previous = cat([Constants.Of("minus-one", int64, gtInds.device, () => tensor(new long[] { -1 }, int64, gtInds.device)), lastWithPositives[TensorIndex.Slice(0, -1)]]);
            offset = cat([Constants.Of("zero", int64, gtInds.device, () => zeros(1, int64, gtInds.device)), imageMax + 1]).gather(0, previous + 1);
        }
        return where(positive, local + offset.unsqueeze(-1), -1L).MoveToOuterDisposeScope();
    }

    /// <summary><c>num / den</c>, or 1 where the denominator is 0 (nothing to rescale), never NaN.</summary>
    private static Tensor SafeRatio(Tensor num, Tensor den) => where(den != 0, num / den, 1f); // x / 0 is only discarded

    /// <summary><c>(bias + (1 - bias) w)^k</c>, PISA's weight shaping (bias 0 skips the identity affine step).</summary>
    public static Tensor BiasedPower(Tensor w, double bias, double k)
    {
        var shaped = bias == 0 ? w : bias + (1 - bias) * w;
        return k == 1 ? shaped : shaped.pow(k); // x^1 is x, and so is its gradient
    }

    /// <summary>Per-row classification loss: softmax cross entropy, or the sigmoid focal loss summed over classes.</summary>
    /// <returns>[N].</returns>
    public static Tensor ClassificationLoss(Tensor clsScore, Tensor labels, bool sigmoid) =>
        sigmoid ? Loss.SigmoidFocal(clsScore, labels).sum(-1) : Loss.CrossEntropy(clsScore, labels);
}
