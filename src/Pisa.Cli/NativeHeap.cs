using System.Runtime.InteropServices;

namespace Pisa.Cli;

/// <summary>
/// glibc's allocator serves every block above its mmap threshold (128 KiB, raised dynamically up to 32 MiB) from a
/// mapping of its own and unmaps it when freed, and gives the heap's top back to the system above 128 KiB (the trim
/// threshold). A training step frees and allocates the same tensors of a few MiB every step, so their pages were
/// faulted in and zeroed anew each time: 20 % of a pisa-faster-rcnn step went to page faults. The process that trains
/// keeps freed memory for reuse instead: blocks up to 32 MiB come from the heap, and the heap is trimmed only above
/// 1 GiB of free top. Peak memory is unchanged (the same tensors); memory freed after the peak stays with the process.
/// </summary>
internal static class NativeHeap
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD
    private const int MmapThresholdMax = 32 << 20; // glibc's upper bound on 64-bit systems
    private const int TrimAbove = 1 << 30;

    /// <summary>
    /// Applies the two thresholds on Linux with glibc, unless the user set them (<c>MALLOC_MMAP_THRESHOLD_</c>,
    /// <c>MALLOC_TRIM_THRESHOLD_</c> or <c>GLIBC_TUNABLES</c>); elsewhere, and with a C library without them, nothing.
    /// </summary>
    public static void KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || UserTunesMalloc()) return;
        try
        {
            _ = MallOpt(MmapThreshold, MmapThresholdMax);
            _ = MallOpt(TrimThreshold, TrimAbove);
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
    }

    /// <summary>Hands glibc's free heap back to the system (<c>malloc_trim(0)</c>) where there is one; elsewhere nothing.</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { _ = MallocTrim(0); }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
    }

    private static bool UserTunesMalloc() =>
        new[] { "GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_" }.Any(name => Environment.GetEnvironmentVariable(name) is not null);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
