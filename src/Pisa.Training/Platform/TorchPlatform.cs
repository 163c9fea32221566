using TorchSharp;

namespace Pisa.Training.Platform;

/// <summary>What this process's libtorch runs with, once the convolution policy is applied.</summary>
/// <param name="Policy">The convolution policy in force.</param>
/// <param name="Applied">False when the policy could not be applied (libtorch's switches not found on this OS): the line says so.</param>
public sealed record TorchSettings(CpuDescription Cpu, ConvolutionPolicy Policy, bool Applied, int Threads)
{
    /// <summary>One line for the start of a run, e.g. <c>convolutions: aten (auto: …); threads: 2</c>.</summary>
    public string Describe() => $"convolutions: {Policy.Describe()}{(Applied ? "" : " [NOT APPLIED: libtorch's switch was not found]")}; threads: {Threads}";
}

/// <summary>
/// Applies <see cref="ConvolutionPolicy"/> to this process once, before the first convolution. Every model constructor
/// and the trainer call <see cref="Configure"/>, so a program that trains through the libraries gets the same numerics
/// as <c>pisa</c>.
/// </summary>
public static class TorchPlatform
{
    private static readonly Lazy<TorchSettings> settings = new(Apply, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Applies the policy (the first call) and returns what is in force.</summary>
    /// <exception cref="PlatformSettingException"><see cref="ConvolutionPolicy.Variable"/> has a value it does not take.</exception>
    public static TorchSettings Configure() => settings.Value;

    /// <summary>libtorch's oneDNN version (e.g. <c>3.7.1</c>) where it can be read, else null.</summary>
    public static string? OneDnnVersion() => TorchNative.OneDnnVersion();

    private static TorchSettings Apply()
    {
        var cpu = CpuDescription.Current();
        var policy = ConvolutionPolicy.Choose(cpu, Environment.GetEnvironmentVariable(ConvolutionPolicy.Variable),
            Environment.GetEnvironmentVariable(ConvolutionPolicy.OneDnnIsaVariable));
        bool applied = true;
        try
        {
            // oneDNN reads its ISA cap from the native environment at its first primitive; a cap the user exported is already there.
            if (policy.OneDnnMaxIsa is { } isa) TorchNative.SetNativeEnvironment(ConvolutionPolicy.OneDnnIsaVariable, isa);
            torch.InitializeDeviceType(DeviceType.CPU);
            TorchNative.OneDnnEnabled = policy.Backend == ConvolutionBackend.OneDnn;
            if (policy.Backend == ConvolutionBackend.Aten) TorchNative.DisableNnpack();
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            applied = policy.Backend == ConvolutionBackend.OneDnn && policy.OneDnnMaxIsa is null; // nothing to change
        }
        return new TorchSettings(cpu, policy, applied, torch.get_num_threads());
    }
}
