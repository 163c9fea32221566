using System.Diagnostics;
using System.Text.Json;
using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Cli.Bench;

/// <summary>
/// <c>pisa bench roialign</c>: our RoIAlign against torchvision's C++ <c>roi_align</c> (aligned=True) on the same
/// features and boxes, forward only, 7×7, sampling ratio 2, 2 images. Rounds alternate between the two so that both
/// see the same machine load; torchvision runs in <c>bench/roi_align_torchvision.py</c> (Debian's python3-torchvision).
/// </summary>
public static class RoIAlignBench
{
    /// <summary>One benchmarked size: features <c>[2, C, H, W]</c> at stride 4, RoIsPerImage boxes per image.</summary>
    public sealed record Size(int Channels, int Height, int Width, int RoIsPerImage)
    {
        public override string ToString() => $"C{Channels} {Height}x{Width} 2x{RoIsPerImage}";
    }

    /// <summary>Per round, the median forward time of each side (ms) and ours / theirs; the largest output difference.</summary>
    public sealed record Result(string Size, int Channels, int Height, int Width, int RoIsPerImage,
        double[] OursMs, double[] TorchvisionMs, double[] Ratio, double MaxAbsDifference);

    public static readonly Size[] Sizes = [new(64, 32, 32, 2000), new(64, 64, 64, 2000), new(256, 100, 100, 1000)];

    private const int OutputSize = 7, SamplingRatio = 2, Stride = 4;

    /// <summary>The python interpreter that imports torchvision: <c>python3</c> on PATH, else Debian's system python.</summary>
    public static string? FindPython(string? preferred)
    {
        foreach (var candidate in preferred is null ? ["python3", "/usr/bin/python3"] : new[] { preferred })
            if (Run(candidate, ["-c", "import torchvision"]).ExitCode == 0) return candidate;
        return null;
    }

    /// <param name="script">bench/roi_align_torchvision.py</param>
    /// <param name="rounds">alternating rounds; each times <paramref name="repeats"/> forward passes per side after a warm-up.</param>
    public static Result Measure(Size size, string python, string script, int threads, bool cpuClock, int rounds = 3, int repeats = 5)
    {
        using var scope = NewDisposeScope();
        var (features, rois) = Inputs(size);
        var align = new RoIAlign(OutputSize, 1.0 / Stride, SamplingRatio);
        string folder = Directory.CreateTempSubdirectory("pisa-bench-roialign-").FullName;
        try
        {
            WriteCase(folder, features, rois);
            var ours = new List<double>();
            var theirs = new List<double>();
            using (no_grad())
            {
                align.Apply(features, rois).Dispose(); // warm-up
                for (int round = 0; round < rounds; round++)
                {
                    theirs.Add(TorchvisionMedianMs(python, script, folder, threads, cpuClock, repeats));
                    ours.Add(OursMedianMs(align, features, rois, cpuClock, repeats));
                }
            }
            double difference = MaxAbsDifference(python, script, folder, align.Apply(features, rois).detach());
            return new Result(size.ToString(), size.Channels, size.Height, size.Width, size.RoIsPerImage,
                [.. ours], [.. theirs], ours.Zip(theirs, (o, t) => o / t).ToArray(), difference);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Seeded features <c>[2, C, H, W]</c> and boxes <c>[2, R, 4]</c> in input pixels (8 px to half the image, some across the border).</summary>
    private static (Tensor Features, Tensor Rois) Inputs(Size size)
    {
        var g = new Generator((ulong)(size.Channels * 1000 + size.Height));
        var features = randn([2, size.Channels, size.Height, size.Width], generator: g);
        var extent = tensor(new float[] { size.Width * Stride, size.Height * Stride });
        var boxSize = (rand([2, size.RoIsPerImage, 2], generator: g) * 0.5 * extent).clamp_min(8);
        var corner = rand([2, size.RoIsPerImage, 2], generator: g) * extent - boxSize / 2;
        return (features, cat([corner, corner + boxSize], -1));
    }

    private static double OursMedianMs(RoIAlign align, Tensor features, Tensor rois, bool cpuClock, int repeats)
    {
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = new StageClock(cpuClock);
            using var pooled = align.Apply(features, rois);
            times.Add(clock.Ms);
        }
        return GeneratorBench.Median(times);
    }

    private static double TorchvisionMedianMs(string python, string script, string folder, int threads, bool cpuClock, int repeats)
    {
        var (code, output, error) = Run(python, [script, "time", folder, "--repeats", repeats.ToString(), "--threads", threads.ToString(), "--clock", cpuClock ? "cpu" : "wall"]);
        if (code != 0) throw new PisaUserException($"pisa bench roialign: {script} failed: {error}");
        var times = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.GetProperty("times_ms").EnumerateArray().Select(t => t.GetDouble()).ToList();
        return GeneratorBench.Median(times);
    }

    private static double MaxAbsDifference(string python, string script, string folder, Tensor ours)
    {
        var (code, _, error) = Run(python, [script, "pool", folder]);
        if (code != 0) throw new PisaUserException($"pisa bench roialign: {script} failed: {error}");
        var bytes = File.ReadAllBytes(Path.Combine(folder, "torchvision_out.f32"));
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        using var theirs = tensor(values).reshape(ours.shape);
        return (ours - theirs).abs().max().ToDouble();
    }

    /// <summary>The case folder <c>bench/roi_align_torchvision.py</c> reads.</summary>
    private static void WriteCase(string folder, Tensor features, Tensor rois)
    {
        File.WriteAllText(Path.Combine(folder, "meta.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["features"] = features.shape, ["rois"] = rois.shape, ["output_size"] = OutputSize,
            ["spatial_scale"] = 1.0 / Stride, ["sampling_ratio"] = SamplingRatio, ["aligned"] = true,
        }));
        File.WriteAllBytes(Path.Combine(folder, "features.f32"), features.contiguous().bytes.ToArray());
        File.WriteAllBytes(Path.Combine(folder, "rois.f32"), rois.contiguous().bytes.ToArray());
    }

    private static (int ExitCode, string Output, string Error) Run(string file, string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, error.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", e.Message);
        }
    }
}
