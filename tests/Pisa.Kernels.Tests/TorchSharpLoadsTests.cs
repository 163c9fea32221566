using Pisa.Build;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>TorchSharp's native library loads from this project's output folder and computes.</summary>
public class TorchSharpLoadsTests
{
    private const string Libstdcxx = "libstdc++.so.6";
    private const string Marker = "GLIBCXX_3.4.32";

    [Fact]
    public void A_small_matmul_gives_the_known_product()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
        using var product = a.matmul(b);
        // [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]]
        Assert.Equal(new float[] { 19, 22, 43, 50 }, product.data<float>().ToArray());
    }

    [Fact]
    public void The_shim_in_the_output_folder_needs_the_marker_version_only_weakly_when_the_system_lacks_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        string[] shims = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(shims);
        bool systemHasIt = SystemLibstdcxxCandidates().Any(p => ElfVersionNeeds.FileMentions(p, Marker));
        foreach (string shim in shims)
        {
            ushort? flags = ElfVersionNeeds.ReadFlags(shim, Libstdcxx, Marker);
            if (flags is null) continue; // a future TorchSharp may not need it at all
            Assert.Equal(!systemHasIt, (flags.Value & ElfVersionNeeds.VerFlagWeak) != 0);
        }
    }

    [Fact]
    public void Patching_twice_changes_nothing_the_second_time_and_leaves_the_package_copy_untouched()
    {
        if (!OperatingSystem.IsLinux()) return;
        string shim = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories)[0];
        string copy = Path.Combine(Path.GetTempPath(), $"pisa-shim-{Guid.NewGuid():N}.so");
        try
        {
            File.Copy(shim, copy);
            var first = ElfVersionNeeds.MarkWeak(copy, Libstdcxx, Marker);
            byte[] afterFirst = File.ReadAllBytes(copy);
            var second = ElfVersionNeeds.MarkWeak(copy, Libstdcxx, Marker);
            Assert.Contains(first, new[] { ElfVersionNeeds.Outcome.Patched, ElfVersionNeeds.Outcome.AlreadyWeak });
            Assert.Equal(ElfVersionNeeds.Outcome.AlreadyWeak, second);
            Assert.Equal(afterFirst, File.ReadAllBytes(copy));
            Assert.Equal(ElfVersionNeeds.VerFlagWeak, ElfVersionNeeds.ReadFlags(copy, Libstdcxx, Marker)!.Value & ElfVersionNeeds.VerFlagWeak);
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void A_file_that_is_not_elf_is_left_alone()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not an ELF file");
            Assert.Equal(ElfVersionNeeds.Outcome.NotElf, ElfVersionNeeds.MarkWeak(path, Libstdcxx, Marker));
            Assert.Equal("not an ELF file", File.ReadAllText(path));
        }
        finally { File.Delete(path); }
    }

    private static IEnumerable<string> SystemLibstdcxxCandidates() =>
        ["/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6"];
}
