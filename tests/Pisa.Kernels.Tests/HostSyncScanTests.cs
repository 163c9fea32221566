using System.Text.RegularExpressions;

namespace Pisa.Kernels.Tests;

/// <summary>The kernels never synchronise with the host, except the one documented transfer of the NMS walk.</summary>
public partial class HostSyncScanTests
{
    private const string DocumentedTransfer = "// documented host transfer";

    private static Regex HostSync() => Pisa.Testing.HostSync.Call();

    [Fact]
    public void No_kernel_source_outside_the_conformance_runner_syncs_with_the_host()
    {
        string kernels = RepoPaths.InRoot("src", "Pisa.Kernels");
        var sources = Directory.EnumerateFiles(kernels, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Conformance{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToList();
        Assert.Contains(sources, f => f.EndsWith("Sample.cs"));

        var offending = new List<string>();
        int documented = 0;
        foreach (string file in sources)
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (!HostSync().IsMatch(lines[i])) continue;
                if (lines[i].Contains(DocumentedTransfer) && Path.GetFileName(file) == "HostImages.cs") { documented++; continue; }
                offending.Add($"{Path.GetRelativePath(kernels, file)}({i + 1}): {lines[i].Trim()}");
            }
        }
        Assert.True(offending.Count == 0, "host synchronisation in kernel code:\n" + string.Join("\n", offending));
        Assert.Equal(1, documented);
    }

    [Theory]
    [InlineData("var x = t.item<float>();")]
    [InlineData("var y = t.cpu();")]
    [InlineData("var z = t.data<long>().ToArray();")]
    [InlineData("float s = t.ToSingle();")]
    [InlineData("var span = t.bytes;")]
    public void The_scan_recognises_a_sync(string line) => Assert.Matches(HostSync(), line);
}
