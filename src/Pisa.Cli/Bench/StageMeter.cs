using Pisa.Kernels;

namespace Pisa.Cli.Bench;

/// <summary>The milliseconds and the tensor operations (<see cref="OpCount"/>) of one lap of a stage.</summary>
public readonly record struct Lap(double Ms, long Ops)
{
    public static Lap operator +(Lap a, Lap b) => new(a.Ms + b.Ms, a.Ops + b.Ops);
}

/// <summary>Laps of a run: each <see cref="Lap"/> call gives what happened since the previous one (or the start).</summary>
public sealed class StageMeter(StageClock clock)
{
    private double _ms = clock.Ms;
    private long _ops = OpCount.Created;

    /// <summary>The time and the operations since the last lap; starts the next.</summary>
    public Lap Lap()
    {
        long ops = OpCount.Created;
        double ms = clock.Ms;
        var lap = new Lap(ms - _ms, ops - _ops);
        (_ms, _ops) = (clock.Ms, OpCount.Created);
        return lap;
    }
}
