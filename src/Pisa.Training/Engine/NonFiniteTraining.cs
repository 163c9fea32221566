using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Engine;

/// <summary>Finding where a training step stopped being finite, and saying so in a way the user can act on.</summary>
public static class NonFiniteTraining
{
    /// <summary>
    /// <c>[1 + P]</c> bool on the device: whether the total loss, then each parameter's gradient, is finite. A gradient's
    /// sum is non-finite exactly when an element is (or when the sum overflows float, a broken gradient too), so this
    /// is two small ops per parameter and no host read.
    /// </summary>
    public static Tensor Flags(Tensor total, IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        var sums = parameters.Select(p => p.grad is { } g ? g.sum() : zeros([], dtype: total.dtype, device: total.device)).ToList();
        return cat([total.detach().reshape(1), stack(sums).to(total.dtype)]).isfinite().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The message for a step whose flags (<see cref="Flags"/>, read to the host) have a false: the 1-based step, the
    /// first parameter with a non-finite gradient, and what to do. Early steps (within warm-up or the first 100) are
    /// rarely the learning rate's fault, so they point to <c>pisa doctor</c> first.
    /// </summary>
    public static string Describe(string recipe, long step, IReadOnlyList<string> names, bool[] flags, int warmupIters, bool anomalyModeOn)
    {
        int firstParameter = Array.IndexOf(flags, false, 1);
        string what = firstParameter > 0
            ? $"the gradient of {names[firstParameter]} became non-finite at step {step}{(flags[0] ? "" : " (the loss too)")}"
              + $" ({flags.Skip(1).Count(f => !f)} of {flags.Length - 1} parameters' gradients)"
            : $"the loss became non-finite at step {step}";
        string hint = step <= Math.Max(100, warmupIters)
            ? "This early it is rarely the learning rate: run 'pisa doctor' to check this machine's numerics"
            : "Lower train.lr or check the data; 'pisa doctor' checks this machine's numerics";
        if (!anomalyModeOn) hint += ", and train with --detect-anomaly to name the operation that produced it";
        return $"{recipe}: {what}. {hint}.";
    }

    /// <summary>
    /// Runs <paramref name="forwardBackward"/> (the failed step again) under autograd's anomaly mode, which names the
    /// backward operation that first returned NaN. Returns a sentence for the error message.
    /// </summary>
    public static string Rerun(Action forwardBackward)
    {
        using var anomalyMode = new AnomalyMode(enabled: true, check_nan: true);
        try
        {
            forwardBackward();
            return "Re-run under anomaly mode, the step was finite: the failure did not repeat (a kernel that misbehaves at random; see 'pisa doctor').";
        }
        catch (ExternalException ex)
        {
            string first = ex.Message.Split('\n').FirstOrDefault(l => l.Contains("returned nan", StringComparison.OrdinalIgnoreCase) || l.Contains("Function '", StringComparison.Ordinal))
                ?? ex.Message.Split('\n')[0];
            return $"Anomaly mode: {first.Trim()}";
        }
    }
}
