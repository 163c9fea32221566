using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>The unreduced classification and regression losses (ALGORITHMS.md, "Losses").</summary>
public static class Loss
{
    /// <summary>Softmax cross entropy over C+1 logits (background last).</summary>
    /// <param name="clsScore">[N, C+1] logits.</param>
    /// <param name="labels">[N] int64 in 0..C (other values are clamped; callers give them weight 0).</param>
    /// <returns>[N].</returns>
    public static Tensor CrossEntropy(Tensor clsScore, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var index = labels.clamp(0, clsScore.shape[^1] - 1).unsqueeze(-1);
        return (-clsScore.log_softmax(-1).gather(-1, index).squeeze(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>Sigmoid focal loss; the background label C gives an all-zero target row; modulating factor <c>p_wrong^gamma</c>.</summary>
    /// <param name="pred">[N, C] logits.</param>
    /// <param name="labels">[N] int64 in 0..C.</param>
    /// <returns>[N, C].</returns>
    public static Tensor SigmoidFocal(Tensor pred, Tensor labels, double gamma = 2.0, double alpha = 0.25)
    {
        using var scope = NewDisposeScope();
        long classes = pred.shape[^1];
        // Targets are exactly 0 or 1, so each blend below is a selection: (1-p)*t + p*(1-t) is where(t, 1-p, p), and
        // alpha*t + (1-alpha)*(1-t) is where(t, alpha, 1-alpha), bit for bit (and so are the gradients), in a third of the
        // passes over [N, C] and without a one-hot int64 [N, C+1].
        var isTarget = labels.clamp(0, classes).unsqueeze(-1) == arange(classes, labels.dtype, labels.device);
        var p = pred.sigmoid();
        var pWrong = where(isTarget, 1 - p, p);
        var focalWeight = where(isTarget, alpha, 1 - alpha).to(pred.dtype) * pWrong.pow(gamma);
        var bce = nn.functional.binary_cross_entropy_with_logits(pred, isTarget.to(pred.dtype), reduction: nn.Reduction.None);
        return (bce * focalWeight).MoveToOuterDisposeScope();
    }

    /// <summary>Smooth L1: <c>0.5 x²/beta</c> for <c>|x| &lt; beta</c>, else <c>|x| - 0.5 beta</c>.</summary>
    /// <param name="pred">[..., 4].</param>
    /// <param name="target">[..., 4].</param>
    /// <returns>[..., 4].</returns>
    public static Tensor SmoothL1(Tensor pred, Tensor target, double beta = 1.0)
    {
        using var scope = NewDisposeScope();
        var x = (pred - target).abs();
        var square = 0.5 * x * x;
        return where(x < beta, beta == 1 ? square : square / beta, x - 0.5 * beta).MoveToOuterDisposeScope(); // y / 1 is y
    }

    /// <summary>L1: <c>|pred - target|</c>.</summary>
    public static Tensor L1(Tensor pred, Tensor target) => (pred - target).abs();

    /// <summary>
    /// Balanced L1 (Libra R-CNN) with <c>b = e^(gamma/alpha) - 1</c>; beta appears only inside the log, as in the reference.
    /// </summary>
    /// <returns>same shape as the inputs.</returns>
    public static Tensor BalancedL1(Tensor pred, Tensor target, double alpha = 0.5, double gamma = 1.5, double beta = 1.0)
    {
        using var scope = NewDisposeScope();
        double b = Math.Exp(gamma / alpha) - 1;
        var x = (pred - target).abs();
        var inside = alpha / b * (b * x + 1) * (b * x / beta + 1).log() - alpha * x;
        var outside = gamma * x + gamma / b - alpha * beta;
        return where(x < beta, inside, outside).MoveToOuterDisposeScope();
    }

    /// <summary>GIoU loss <c>1 - GIoU</c> of aligned decoded boxes.</summary>
    /// <param name="pred">[..., 4] boxes.</param>
    /// <param name="target">[..., 4] boxes.</param>
    /// <returns>[...].</returns>
    public static Tensor GIoU(Tensor pred, Tensor target)
    {
        using var scope = NewDisposeScope();
        return (1 - Boxes.AlignedGIoU(pred, target)).MoveToOuterDisposeScope();
    }
}

/// <summary>A box regression loss as the heads configure it: which loss, its beta, its weight.</summary>
/// <param name="Kind">smooth_l1, l1 or balanced_l1.</param>
public sealed record BoxLoss(BoxLossKind Kind, double Beta = 1.0, double LossWeight = 1.0, double Alpha = 0.5, double Gamma = 1.5)
{
    /// <summary>Smooth L1 with beta 1 and weight 1, the two-stage head's default.</summary>
    public static BoxLoss SmoothL1Default { get; } = new(BoxLossKind.SmoothL1);

    /// <summary>The unreduced, weighted loss.</summary>
    /// <param name="pred">[..., 4].</param>
    /// <param name="target">[..., 4].</param>
    /// <returns>[..., 4].</returns>
    public Tensor Compute(Tensor pred, Tensor target)
    {
        using var scope = NewDisposeScope();
        var loss = Kind switch
        {
            BoxLossKind.SmoothL1 => Loss.SmoothL1(pred, target, Beta),
            BoxLossKind.L1 => Loss.L1(pred, target),
            _ => Loss.BalancedL1(pred, target, Alpha, Gamma, Beta),
        };
        return (LossWeight == 1 ? loss : loss * LossWeight).MoveToOuterDisposeScope(); // y * 1 is y
    }
}

/// <summary>The regression losses a head can use.</summary>
public enum BoxLossKind { SmoothL1, L1, BalancedL1 }

/// <summary>Sigmoid focal loss parameters (RetinaNet: gamma 2, alpha 0.25).</summary>
public sealed record FocalSettings(double Gamma = 2.0, double Alpha = 0.25);
