using System.Diagnostics;

namespace Pisa.Training.Engine;

/// <summary>
/// Where a training step's wall time goes, for <c>pisa bench step</c>: the runners call <see cref="Mark"/> at the end of
/// each phase and <see cref="Count"/> for sizes worth reporting (RoIs pooled). Nothing is recorded unless a bench has
/// made a recorder <see cref="Current"/> on this thread. On a GPU the marks would need a device synchronisation to mean
/// anything; this is a CPU tool.
/// </summary>
public sealed class StepPhases
{
    [ThreadStatic] private static StepPhases? current;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private double last;

    /// <summary>The recorder of this thread's step, or null (the runners' marks are then no-ops).</summary>
    public static StepPhases? Current { get => current; set => current = value; }

    /// <summary>Milliseconds per phase, in the order phases first ended.</summary>
    public Dictionary<string, double> Milliseconds { get; } = [];

    /// <summary>Named counts (e.g. <c>rois</c>: RoIs pooled this step).</summary>
    public Dictionary<string, long> Counts { get; } = [];

    /// <summary>Starts the next phase now (what ran since the last mark is not attributed).</summary>
    public void Restart() => last = clock.Elapsed.TotalMilliseconds;

    /// <summary>Ends <paramref name="phase"/>: the time since the previous mark is added to it.</summary>
    public static void Mark(string phase)
    {
        if (current is not { } phases) return;
        double now = phases.clock.Elapsed.TotalMilliseconds;
        phases.Milliseconds[phase] = phases.Milliseconds.GetValueOrDefault(phase) + now - phases.last;
        phases.last = now;
    }

    /// <summary>Adds <paramref name="amount"/> to the count <paramref name="name"/>.</summary>
    public static void Count(string name, long amount)
    {
        if (current is { } phases) phases.Counts[name] = phases.Counts.GetValueOrDefault(name) + amount;
    }
}
