using System.Runtime.InteropServices;

namespace Pisa.Training.Platform;

/// <summary>
/// The few libtorch switches TorchSharp does not expose: <c>at::globalContext().setUserEnabledMkldnn</c> (and NNPACK's),
/// called through their Itanium C++ names (Linux and macOS). Elsewhere the calls throw
/// <see cref="EntryPointNotFoundException"/> or <see cref="DllNotFoundException"/> and the caller reports the switch as not applied.
/// </summary>
internal static partial class TorchNative
{
    private const string TorchCpu = "libtorch_cpu";

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(TorchCpu, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledMkldnn(IntPtr context);

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    // Returns a std::string through the hidden result pointer (x86-64 / arm64 Itanium ABI: 32 bytes, libstdc++ layout).
    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at18get_mkldnn_versionB5cxx11Ev")]
    private static partial IntPtr GetMkldnnVersion(IntPtr result);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>Whether libtorch may use oneDNN (mkldnn) for dense CPU tensors: convolutions above all.</summary>
    public static bool OneDnnEnabled
    {
        get => UserEnabledMkldnn(GlobalContext());
        set => SetUserEnabledMkldnn(GlobalContext(), value);
    }

    /// <summary>NNPACK, the convolution path ATen tries before its own when oneDNN is off (it only warns on most x86 CPUs).</summary>
    public static void DisableNnpack() => SetUserEnabledNNPACK(GlobalContext(), false);

    /// <summary>libtorch's oneDNN version, e.g. <c>3.7.1</c>, read on Linux (libstdc++'s string layout); null elsewhere.</summary>
    public static string? OneDnnVersion()
    {
        if (!OperatingSystem.IsLinux()) return null;
        IntPtr text = Marshal.AllocHGlobal(32);
        try
        {
            GetMkldnnVersion(text);
            IntPtr chars = Marshal.ReadIntPtr(text);
            long length = Marshal.ReadInt64(text, IntPtr.Size);
            return length is > 0 and < 256 ? Marshal.PtrToStringUTF8(chars, (int)length) : null; // its small heap block is left to the process
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException) { return null; }
        finally { Marshal.FreeHGlobal(text); }
    }

    /// <summary>Sets a variable in the native environment (what oneDNN's <c>getenv</c> reads); .NET's own setter does not on Unix.</summary>
    public static void SetNativeEnvironment(string name, string value)
    {
        if (SetEnv(name, value, 1) != 0) throw new InvalidOperationException($"setenv({name}) failed");
    }
}
