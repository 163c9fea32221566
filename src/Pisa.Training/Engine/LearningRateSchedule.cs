using Pisa.Recipes;

namespace Pisa.Training.Engine;

/// <summary>
/// The learning rate of every iteration, a pure function of the step so a resumed run needs no schedule state:
/// a linear warm-up from <c>lr · warmup_ratio</c> (as mmdetection's <c>warmup='linear'</c>), times the step, cosine or
/// constant schedule.
/// </summary>
public sealed class LearningRateSchedule(TrainSettings settings, int iterationsPerEpoch)
{
    public int TotalIterations => settings.Epochs * iterationsPerEpoch;

    /// <summary>The rate of global iteration <paramref name="step"/> (0-based).</summary>
    public double At(long step)
    {
        int epoch = (int)(step / iterationsPerEpoch);
        double rate = settings.Lr * Decay(step, epoch);
        if (step < settings.WarmupIters)
            rate *= 1 - (1 - settings.WarmupRatio) * (1 - (double)step / settings.WarmupIters);
        return rate;
    }

    private double Decay(long step, int epoch) => settings.Schedule switch
    {
        // "after epoch s": from the first iteration of 0-based epoch s on.
        LrSchedule.Step => Math.Pow(0.1, settings.LrSteps.Count(s => epoch >= s)),
        LrSchedule.Cosine => 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, TotalIterations) / TotalIterations)),
        _ => 1.0,
    };
}
