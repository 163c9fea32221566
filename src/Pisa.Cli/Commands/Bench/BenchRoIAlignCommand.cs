using System.ComponentModel;
using System.Globalization;
using Pisa.Cli.Bench;
using Spectre.Console.Cli;
using static Pisa.Cli.Commands.Bench.BenchSupport;

namespace Pisa.Cli.Commands.Bench;

/// <summary><c>pisa bench roialign [--python PATH] [--rounds N]</c>: our RoIAlign against torchvision's C++ <c>roi_align</c> on the same features and boxes.</summary>
public sealed class BenchRoIAlignCommand : Command<BenchRoIAlignCommand.Settings>
{
    public sealed class Settings : BenchSettings
    {
        [CommandOption("--python <PATH>")]
        [Description("The python interpreter with torchvision (default: python3, else /usr/bin/python3).")]
        public string? Python { get; init; }

        [CommandOption("--rounds <N>")]
        [Description("Alternating rounds of ours and torchvision (default 3).")]
        public int Rounds { get; init; } = 3;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        int threads = settings.ApplyThreads(fallback: 1);
        bool cpuClock = settings.CpuClock;
        string script = Path.Combine(RepoRoot(), "bench", "roi_align_torchvision.py");
        string python = RoIAlignBench.FindPython(settings.Python)
            ?? throw new PisaUserException("pisa bench roialign: no python3 with torchvision (Debian: apt-get install python3-torchvision python3-numpy; or --python PATH)");
        Console.WriteLine(F($"pisa bench roialign: ours vs torchvision's C++ roi_align ({python}), forward only, 2 images, 7x7, sampling ratio 2, stride 4, {threads} thread(s), {settings.Clock} clock, {settings.Rounds} alternating rounds of 5 (medians, ms)"));
        Console.WriteLine(F($"{"size",-22} {"ours",-24} {"torchvision",-24} {"ours / torchvision",-20} max |diff|"));
        var results = new List<RoIAlignBench.Result>();
        foreach (var size in RoIAlignBench.Sizes)
        {
            var r = RoIAlignBench.Measure(size, python, script, threads, cpuClock, settings.Rounds);
            results.Add(r);
            Console.WriteLine(F($"{r.Size,-22} {Range(r.OursMs, "0.0"),-24} {Range(r.TorchvisionMs, "0.0"),-24} {Range(r.Ratio, "0.00") + "x",-20} {r.MaxAbsDifference:0.0e0}"));
        }
        settings.WriteJson(new { threads, clock = settings.Clock, python, results });
        return PisaApp.Ok;
    }

    private static string Range(double[] values, string format) =>
        values.Min().ToString(format, CultureInfo.InvariantCulture) + "-" + values.Max().ToString(format, CultureInfo.InvariantCulture);
}
