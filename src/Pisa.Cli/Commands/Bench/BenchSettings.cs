using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Pisa.Cli.Bench;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace Pisa.Cli.Commands.Bench;

/// <summary>What every <c>pisa bench</c> command takes: where to write its JSON, libtorch's threads, and the clock.</summary>
public abstract class BenchSettings : CommandSettings
{
    [CommandOption("--json <FILE>")]
    [Description("Also write the results as JSON to FILE.")]
    public string? Json { get; init; }

    [CommandOption("--threads <N>")]
    [Description("libtorch intra-op threads (default: libtorch's choice; roialign: 1).")]
    public int? Threads { get; init; }

    [CommandOption("--clock <KIND>")]
    [Description("wall (default) or cpu: the calling thread's CPU time (Linux; meaningful with --threads 1 on a shared machine).")]
    public string Clock { get; init; } = "wall";

    /// <summary>Sets libtorch's intra-op threads when <c>--threads</c> is given (or <paramref name="fallback"/> is); returns the count in use.</summary>
    public int ApplyThreads(int? fallback = null)
    {
        if ((Threads ?? fallback) is int threads)
        {
            if (threads < 1) throw new PisaUserException("pisa bench: --threads must be at least 1");
            set_num_threads(threads);
        }
        return get_num_threads();
    }

    /// <summary>Whether <c>--clock</c> asks for the calling thread's CPU time rather than wall time.</summary>
    public bool CpuClock => Clock switch
    {
        "wall" => false,
        "cpu" when StageClock.CpuAvailable => true,
        "cpu" => throw new PisaUserException("pisa bench: --clock cpu needs Linux"),
        var other => throw new PisaUserException($"pisa bench: --clock is '{other}', not wall or cpu"),
    };

    /// <summary>For a benchmark that times with the wall clock only: <c>--clock cpu</c> is refused rather than ignored.</summary>
    public void RequireWallClock(string command)
    {
        if (Clock != "wall") throw new PisaUserException($"pisa bench {command}: measures wall time only (--clock cpu applies to kernels, recipe and roialign)");
    }

    /// <summary>Writes <paramref name="results"/> to the <c>--json</c> file, when one is given, and says so.</summary>
    public void WriteJson<T>(T results)
    {
        if (Json is null) return;
        File.WriteAllText(Json, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {Json}");
    }
}

/// <summary>What the bench commands share besides their settings: the repository they read and invariant formatting.</summary>
internal static class BenchSupport
{
    /// <summary>The clone the running build sits in (the folder holding <c>Pisa.Dsl.sln</c>): benchmarks read its recipes and bench scripts.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pisa.Dsl.sln"))) return dir.FullName;
        throw new PisaUserException("pisa bench: run it from a build inside a clone of the repository (it reads recipes/ and ../shared/bench/)");
    }

    public static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
