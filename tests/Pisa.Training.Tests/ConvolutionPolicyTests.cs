using System.Runtime.InteropServices;
using Pisa.Training.Platform;

namespace Pisa.Training.Tests;

/// <summary>The convolution policy on recorded <c>/proc/cpuinfo</c> texts, so every CPU kind is tested on any machine.</summary>
public class ConvolutionPolicyTests
{
    // The processor of the bug report (AMD EPYC, Zen 4), trimmed to the lines the parser reads.
    private const string AmdEpycZen4 = """
        processor	: 0
        vendor_id	: AuthenticAMD
        cpu family	: 25
        model		: 17
        model name	: AMD EPYC 9R14 96-Core Processor
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch topoext perfctr_core invpcid_single ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr rdpru wbnoinvd arat avx512vbmi pku ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid flush_l1d
        bogomips	: 5199.99

        processor	: 1
        vendor_id	: AuthenticAMD
        model name	: AMD EPYC 9R14 96-Core Processor
        flags		: fpu sse sse2
        """;

    private const string IntelSkylakeServer = """
        processor	: 0
        vendor_id	: GenuineIntel
        model name	: Intel(R) Xeon(R) Platinum 8180 CPU @ 2.50GHz
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch fsgsbase bmi1 hle avx2 smep bmi2 erms invpcid rtm mpx avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves pku ospke
        """;

    private const string IntelHaswellDesktop = """
        processor	: 0
        vendor_id	: GenuineIntel
        model name	: Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm abm fsgsbase bmi1 avx2 smep bmi2 erms invpcid xsaveopt
        """;

    private const string IntelWestmereServer = """
        processor	: 0
        vendor_id	: GenuineIntel
        model name	: Intel(R) Xeon(R) CPU X5670 @ 2.93GHz
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 cx16 sse4_1 sse4_2 popcnt aes lahf_lm
        """;

    private const string Graviton2 = """
        processor	: 0
        BogoMIPS	: 243.75
        Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
        CPU implementer	: 0x41
        CPU architecture: 8
        CPU variant	: 0x3
        CPU part	: 0xd0c
        """;

    private static CpuDescription X64(string text) => CpuDescription.Parse(text, Architecture.X64);

    [Fact]
    public void The_first_processor_of_a_cpuinfo_text_gives_vendor_model_and_flags()
    {
        var cpu = X64(AmdEpycZen4);
        Assert.Equal("AuthenticAMD", cpu.Vendor);
        Assert.Equal("AMD EPYC 9R14 96-Core Processor", cpu.ModelName);
        Assert.True(cpu.Has("avx512f") && cpu.Has("avx512_bf16") && cpu.Has("avx2"));
        Assert.False(cpu.Has("amx_tile"));
        Assert.Equal("sse4_1 sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16", cpu.SimdSummary);

        var arm = CpuDescription.Parse(Graviton2, Architecture.Arm64);
        Assert.Equal("0x41", arm.Vendor);
        Assert.True(arm.Has("asimd"));
    }

    [Theory]
    [InlineData(nameof(AmdEpycZen4), ConvolutionBackend.Aten)]        // the report's machine: AVX-512 kernels
    [InlineData(nameof(IntelSkylakeServer), ConvolutionBackend.Aten)] // the same avx512_core kernels on Intel
    [InlineData(nameof(IntelHaswellDesktop), ConvolutionBackend.Aten)] // jit:avx2 also returned NaN (1 probe run in 6 under ONEDNN_MAX_CPU_ISA=AVX2)
    [InlineData(nameof(IntelWestmereServer), ConvolutionBackend.OneDnn)] // sse41 kernels: no NaN seen
    public void Auto_takes_convolutions_off_onednn_exactly_on_cpus_with_its_affected_kernels(string cpuName, ConvolutionBackend expected)
    {
        string text = (string)typeof(ConvolutionPolicyTests).GetField(cpuName, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null)!;
        var policy = ConvolutionPolicy.Choose(X64(text), requested: null, userOneDnnIsa: null);
        Assert.Equal(expected, policy.Backend);
        Assert.Null(policy.OneDnnMaxIsa);
        Assert.StartsWith("auto: ", policy.Reason);
    }

    [Fact]
    public void Arm_cpus_keep_onednn()
    {
        var policy = ConvolutionPolicy.Choose(CpuDescription.Parse(Graviton2, Architecture.Arm64), null, null);
        Assert.Equal(ConvolutionBackend.OneDnn, policy.Backend);
    }

    [Fact]
    public void The_user_overrides_the_choice_either_way_and_the_description_says_who_chose()
    {
        var zen4 = X64(AmdEpycZen4);
        var forced = ConvolutionPolicy.Choose(zen4, "onednn", null);
        Assert.Equal(ConvolutionBackend.OneDnn, forced.Backend);
        Assert.Equal("onednn (PISA_CONV_BACKEND=onednn)", forced.Describe());

        var aten = ConvolutionPolicy.Choose(X64(IntelWestmereServer), " ATEN ", null);
        Assert.Equal(ConvolutionBackend.Aten, aten.Backend);

        Assert.Equal(ConvolutionBackend.Aten, ConvolutionPolicy.Choose(zen4, "auto", "").Backend);
    }

    [Fact]
    public void An_isa_cap_the_user_exported_keeps_onednn_under_that_cap()
    {
        var capped = ConvolutionPolicy.Choose(X64(AmdEpycZen4), null, "SSE41");
        Assert.Equal(ConvolutionBackend.OneDnn, capped.Backend);
        Assert.Equal("SSE41", capped.OneDnnMaxIsa);
        Assert.Equal("onednn, ONEDNN_MAX_CPU_ISA=SSE41 (ONEDNN_MAX_CPU_ISA set by the user)", capped.Describe());
        // An explicit backend wins over the cap's implication, and aten has no use for it.
        Assert.Null(ConvolutionPolicy.Choose(X64(AmdEpycZen4), "aten", "SSE41").OneDnnMaxIsa);
    }

    [Fact]
    public void An_unknown_backend_value_is_an_error_naming_the_variable_and_the_values()
    {
        var error = Assert.Throws<PlatformSettingException>(() => ConvolutionPolicy.Choose(X64(AmdEpycZen4), "mkl", null));
        Assert.Equal("PISA_CONV_BACKEND=mkl: expected one of auto, onednn, aten", error.Message);
    }

    [Fact]
    public void This_process_runs_with_the_policy_for_its_own_cpu()
    {
        var settings = TorchPlatform.Configure();
        var expected = ConvolutionPolicy.Choose(CpuDescription.Current(), Environment.GetEnvironmentVariable(ConvolutionPolicy.Variable),
            Environment.GetEnvironmentVariable(ConvolutionPolicy.OneDnnIsaVariable));
        Assert.Equal(expected, settings.Policy);
        Assert.True(settings.Applied, settings.Describe());
    }
}
