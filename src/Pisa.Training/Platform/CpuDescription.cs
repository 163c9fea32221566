using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Pisa.Training.Platform;

/// <summary>
/// What the convolution policy needs to know about a processor: its vendor, model name and instruction-set flags as
/// Linux's <c>/proc/cpuinfo</c> spells them (<c>avx2</c>, <c>avx512f</c>, …). Parsed from recorded text so the policy is
/// tested on CPUs no test machine has.
/// </summary>
/// <param name="Architecture">The process architecture (<c>X64</c>, <c>Arm64</c>, …).</param>
public sealed record CpuDescription(Architecture Architecture, string Vendor, string ModelName, ImmutableSortedSet<string> Flags)
{
    /// <summary>The flags that tell which SIMD kernels oneDNN and ATen pick, in the order they are printed.</summary>
    public static readonly ImmutableArray<string> SimdFlags =
        ["sse4_1", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "asimd", "sve"];

    public bool Has(string flag) => Flags.Contains(flag);

    /// <summary>The SIMD flags present, e.g. <c>sse4_2 avx2 fma avx512f</c>.</summary>
    public string SimdSummary => string.Join(' ', SimdFlags.Where(Has));

    /// <summary>
    /// The first processor of a <c>/proc/cpuinfo</c> text (x86: <c>vendor_id</c>, <c>model name</c>, <c>flags</c>;
    /// arm64: <c>CPU implementer</c>, <c>Features</c>).
    /// </summary>
    public static CpuDescription Parse(string procCpuinfo, Architecture architecture)
    {
        string? vendor = null, model = null, flags = null;
        foreach (string line in procCpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) { if (flags is not null && line.Trim().Length == 0) break; continue; }
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "vendor_id" or "CPU implementer": vendor ??= value; break;
                case "model name" or "Model": model ??= value; break;
                case "flags" or "Features": flags ??= value; break;
            }
        }
        var set = (flags ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToImmutableSortedSet(StringComparer.Ordinal);
        return new CpuDescription(architecture, vendor ?? "unknown", model ?? "unknown", set);
    }

    /// <summary>This machine's processor: <c>/proc/cpuinfo</c> on Linux, else what .NET's intrinsics report.</summary>
    public static CpuDescription Current()
    {
        var architecture = RuntimeInformation.ProcessArchitecture;
        if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
        {
            try { return Parse(File.ReadAllText("/proc/cpuinfo"), architecture); }
            catch (IOException) { }
        }
        return FromIntrinsics(architecture);
    }

    private static CpuDescription FromIntrinsics(Architecture architecture)
    {
        var flags = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
        void Add(bool supported, string flag) { if (supported) flags.Add(flag); }
        Add(System.Runtime.Intrinsics.X86.Sse41.IsSupported, "sse4_1");
        Add(System.Runtime.Intrinsics.X86.Sse42.IsSupported, "sse4_2");
        Add(System.Runtime.Intrinsics.X86.Avx.IsSupported, "avx");
        Add(System.Runtime.Intrinsics.X86.Avx2.IsSupported, "avx2");
        Add(System.Runtime.Intrinsics.X86.Fma.IsSupported, "fma");
        Add(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "avx512f");
        Add(System.Runtime.Intrinsics.X86.Avx512BW.IsSupported, "avx512bw");
        Add(System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported, "asimd");
        return new CpuDescription(architecture, "unknown", "unknown", flags.ToImmutable());
    }
}
