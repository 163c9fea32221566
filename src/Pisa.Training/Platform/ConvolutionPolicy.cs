using System.Runtime.InteropServices;

namespace Pisa.Training.Platform;

/// <summary>Which implementation runs libtorch's CPU convolutions.</summary>
public enum ConvolutionBackend
{
    /// <summary>oneDNN (libtorch's default on x86-64): JIT kernels on blocked layouts, chosen per ISA.</summary>
    OneDnn,
    /// <summary>ATen's own convolution: im2col and the BLAS GEMM, on plain NCHW tensors.</summary>
    Aten,
}

/// <summary>
/// How CPU convolutions run in this process, and why. The default (<see cref="Choose"/>) keeps training correct on every
/// x86-64 CPU: libtorch 2.10's oneDNN 3.7.1 returns NaN at random from the backward-data convolution of its AVX2 and
/// AVX-512 JIT kernels when a channel count is not a multiple of the SIMD block (the padded lanes of the blocked layouts
/// are read uninitialised), so on CPUs that have those kernels convolutions go to ATen's im2col + GEMM path instead.
/// The user overrides it with <see cref="Variable"/> (<c>auto</c>, <c>onednn</c>, <c>aten</c>) or oneDNN's own
/// <c>ONEDNN_MAX_CPU_ISA</c>; README, "Numerics on every CPU", has the measurements behind the choice.
/// </summary>
/// <param name="OneDnnMaxIsa">An ISA cap for oneDNN (<c>ONEDNN_MAX_CPU_ISA</c>) when one is in force, else null.</param>
/// <param name="Reason">One sentence: who chose it and why.</param>
public sealed record ConvolutionPolicy(ConvolutionBackend Backend, string? OneDnnMaxIsa, string Reason)
{
    /// <summary>The environment variable that overrides the choice.</summary>
    public const string Variable = "PISA_CONV_BACKEND";

    /// <summary>oneDNN's own ISA cap, honoured as the user's choice when set.</summary>
    public const string OneDnnIsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The values <see cref="Variable"/> takes.</summary>
    public static readonly IReadOnlyList<string> Values = ["auto", "onednn", "aten"];

    /// <summary>What is in force, for logs and run.json: e.g. <c>aten (auto: …)</c> or <c>onednn, ONEDNN_MAX_CPU_ISA=SSE41 (…)</c>.</summary>
    public string Describe() => $"{Name}{(OneDnnMaxIsa is null ? "" : $", {OneDnnIsaVariable}={OneDnnMaxIsa}")} ({Reason})";

    /// <summary><c>onednn</c> or <c>aten</c>.</summary>
    public string Name => Backend == ConvolutionBackend.OneDnn ? "onednn" : "aten";

    /// <summary>
    /// The policy for <paramref name="cpu"/>, given the user's <see cref="Variable"/> and <c>ONEDNN_MAX_CPU_ISA</c> values
    /// (null when unset).
    /// </summary>
    /// <exception cref="PlatformSettingException"><paramref name="requested"/> is not one of <see cref="Values"/> (the message says so).</exception>
    public static ConvolutionPolicy Choose(CpuDescription cpu, string? requested, string? userOneDnnIsa)
    {
        string choice = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        string? isa = string.IsNullOrWhiteSpace(userOneDnnIsa) ? null : userOneDnnIsa.Trim();
        switch (choice)
        {
            case "onednn":
                return new(ConvolutionBackend.OneDnn, isa, $"{Variable}=onednn");
            case "aten":
                return new(ConvolutionBackend.Aten, null, $"{Variable}=aten");
            case "auto" when isa is not null:
                return new(ConvolutionBackend.OneDnn, isa, $"{OneDnnIsaVariable} set by the user");
            case "auto" when HasAffectedOneDnnKernels(cpu):
                return new(ConvolutionBackend.Aten, null,
                    $"auto: {Describe(cpu)} has oneDNN's AVX2/AVX-512 convolution kernels, whose backward pass returns NaN at random in libtorch 2.10");
            case "auto":
                return new(ConvolutionBackend.OneDnn, null, $"auto: {Describe(cpu)} has none of oneDNN's affected AVX2/AVX-512 kernels");
            default:
                throw new PlatformSettingException($"{Variable}={requested}: expected one of {string.Join(", ", Values)}");
        }
    }

    /// <summary>x86-64 CPUs with AVX2 (and so every AVX-512 CPU): oneDNN picks its blocked <c>jit:avx2</c> or <c>jit:avx512_core</c> kernels there.</summary>
    public static bool HasAffectedOneDnnKernels(CpuDescription cpu) =>
        cpu.Architecture is Architecture.X64 or Architecture.X86 && (cpu.Has("avx2") || cpu.Has("avx512f"));

    private static string Describe(CpuDescription cpu) => cpu.ModelName == "unknown" ? $"this {cpu.Architecture} CPU" : cpu.ModelName;
}

/// <summary>An environment setting that pisa reads has a value it does not take; the message names it.</summary>
public sealed class PlatformSettingException(string message) : Exception(message);
