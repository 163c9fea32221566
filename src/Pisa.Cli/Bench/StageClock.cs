using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pisa.Cli.Bench;

/// <summary>
/// Milliseconds since the clock started: wall time, or (Linux) the calling thread's CPU time. With one libtorch thread
/// all the work runs on the calling thread, so its CPU time measures the kernels alone on a machine shared with other
/// jobs, where wall time would mostly measure the scheduler.
/// </summary>
public sealed class StageClock
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID
    private readonly bool _cpu;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly double _cpuStart;

    public StageClock(bool cpu)
    {
        _cpu = cpu && OperatingSystem.IsLinux();
        if (_cpu) _cpuStart = ThreadCpuMs();
    }

    /// <summary>Whether thread CPU time can be measured here.</summary>
    public static bool CpuAvailable => OperatingSystem.IsLinux();

    /// <summary>Elapsed milliseconds.</summary>
    public double Ms => _cpu ? ThreadCpuMs() - _cpuStart : _wall.Elapsed.TotalMilliseconds;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static double ThreadCpuMs()
    {
        ClockGetTime(ClockThreadCpuTime, out var t);
        return t.Seconds * 1000.0 + t.Nanoseconds / 1e6;
    }
}
