using System.ComponentModel;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Pisa.Build;
using Pisa.Compilation;
using Pisa.Conformance;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Engine;
using Pisa.Training.Platform;
using Pisa.Training.Runs;
using Spectre.Console.Cli;
using TorchSharp;

namespace Pisa.Cli.Commands;

/// <summary>
/// <c>pisa doctor [--only convolution|conformance|training] [--trials N]</c>: the platform facts a numerics bug report
/// needs, then the numerical self-checks as PASS/FAIL lines; exit 0 when all pass, 1 otherwise.
/// </summary>
public sealed class DoctorCommand : Command<DoctorCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--only <CHECK>")]
        [Description("Run one check: convolution, conformance or training (default: all three).")]
        public string? Only { get; init; }

        [CommandOption("--trials <N>")]
        [Description("Random shapes for the convolution check (default 48).")]
        public int Trials { get; init; } = 48;
    }

    /// <summary>The conformance cases shipped inside pisa for the self-check (one per kernel family).</summary>
    private static readonly string[] ConformanceCases = ["boxes/decode_inverse_of_encode.json", "assign/thresholds_and_tie.json", "loss/sigmoid_focal.json", "reweight/isr_p_spec_shape.json"];

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var checks = new Dictionary<string, Func<SelfCheckResult>>
        {
            ["convolution"] = () => ConvolutionSelfCheck.Run(settings.Trials),
            ["conformance"] = RunConformance,
            ["training"] = RunTrainingStep,
        };
        if (settings.Only is { } only && !checks.ContainsKey(only))
            throw new PisaUserException($"pisa doctor --only {only}: expected one of {string.Join(", ", checks.Keys)}");

        var torchSettings = TorchPlatform.Configure();
        foreach (var (key, value) in Facts(torchSettings)) Console.WriteLine($"{key,-22} {value}");
        Console.WriteLine();

        bool allPassed = true;
        foreach (var (name, check) in checks.Where(c => settings.Only is null || c.Key == settings.Only))
        {
            var clock = Stopwatch.StartNew();
            SelfCheckResult result;
            try { result = check(); }
            catch (Exception ex) when (ex is not OutOfMemoryException) { result = new SelfCheckResult(name, false, $"{ex.GetType().Name}: {ex.Message}"); }
            allPassed &= result.Passed;
            Console.WriteLine($"{(result.Passed ? "PASS" : "FAIL")} {name}: {result.Name}: {result.Detail} ({clock.Elapsed.TotalSeconds:0.0} s)");
        }
        if (!allPassed)
            Console.WriteLine($"some checks failed: training on this machine may give NaN or wrong numbers. Try {ConvolutionPolicy.Variable}=aten (or =onednn), and report the lines above.");
        return allPassed ? PisaApp.Ok : PisaApp.UserError;
    }

    /// <summary>The platform facts, in print order.</summary>
    private static IEnumerable<(string, string)> Facts(TorchSettings torch)
    {
        var cpu = torch.Cpu;
        yield return ("cpu", $"{cpu.ModelName} ({cpu.Vendor}, {cpu.Architecture}, {Environment.ProcessorCount} logical cores)");
        yield return ("simd", cpu.SimdSummary.Length > 0 ? cpu.SimdSummary : "(none reported)");
        yield return ("os", RuntimeInformation.OSDescription);
        yield return (".net", RuntimeInformation.FrameworkDescription);
        yield return ("torchsharp", typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?");
        yield return ("libtorch", TorchSharp.torch.__version__);
        yield return ("onednn", TorchPlatform.OneDnnVersion() ?? "(version not readable on this OS)");
        yield return ("onednn isa", Environment.GetEnvironmentVariable(ConvolutionPolicy.OneDnnIsaVariable) is { Length: > 0 } cap
            ? $"{ConvolutionPolicy.OneDnnIsaVariable}={cap}" : $"best the CPU has ({OneDnnIsaFromFlags(cpu)})");
        yield return ("convolutions", torch.Policy.Describe() + (torch.Applied ? "" : " [NOT APPLIED]"));
        yield return ("threads", $"{TorchSharp.torch.get_num_threads()} (intra-op)");
        yield return ("native shim fix", NativeShimFix());
        yield return ("pipeline cache", RecipeCompiler.DefaultCacheDirectory);
        yield return ("cuda", TorchSharp.torch.cuda.is_available() ? $"available ({TorchSharp.torch.cuda.device_count()} device(s))" : "not available (CPU build or no device)");
    }

    /// <summary>The kernel family oneDNN dispatches to on these flags (its own choice is not queryable from libtorch).</summary>
    private static string OneDnnIsaFromFlags(CpuDescription cpu) =>
        cpu.Has("amx_tile") ? "avx512_core_amx" : cpu.Has("avx512_bf16") ? "avx512_core_bf16" : cpu.Has("avx512_vnni") ? "avx512_core_vnni"
        : cpu.Has("avx512f") ? "avx512_core" : cpu.Has("avx2") ? "avx2" : cpu.Has("sse4_1") ? "sse41" : cpu.Has("asimd") ? "aarch64 (asimd)" : "none";

    /// <summary>Whether TorchSharp's shim had its GLIBCXX_3.4.32 need weakened (README, "TorchSharp on Debian 12").</summary>
    private static string NativeShimFix()
    {
        if (!OperatingSystem.IsLinux()) return "not needed off Linux";
        string? shim = new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native") }
            .Select(d => Path.Combine(d, "libLibTorchSharp.so")).FirstOrDefault(File.Exists);
        if (shim is null) return "libLibTorchSharp.so not found beside pisa";
        ushort? flags = ElfVersionNeeds.ReadFlags(shim, "libstdc++.so.6", "GLIBCXX_3.4.32");
        return flags is null ? "not needed (the shim does not ask for GLIBCXX_3.4.32)"
            : (flags & ElfVersionNeeds.VerFlagWeak) != 0 ? "applied (GLIBCXX_3.4.32 need marked weak)" : "not applied (the shim needs GLIBCXX_3.4.32 from the system's libstdc++)";
    }

    /// <summary>A few conformance cases shipped inside pisa, one per kernel family.</summary>
    private static SelfCheckResult RunConformance()
    {
        string folder = Directory.CreateTempSubdirectory("pisa-doctor-").FullName;
        try
        {
            var results = ConformanceCases.Select(name =>
            {
                string file = Path.Combine(folder, name.Replace('/', '_'));
                using (var resource = Resource($"conformance/{name}")) using (var output = File.Create(file)) resource.CopyTo(output);
                return ConformanceRunner.RunFile(file);
            }).ToList();
            var failed = results.Where(r => !r.Passed).ToList();
            return new("kernels against conformance cases", failed.Count == 0,
                failed.Count == 0 ? $"{results.Count} cases ({string.Join(", ", ConformanceCases)})" : string.Join("; ", failed));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>Two training steps of the default recipe on a few built-in images, losses and gradients checked finite.</summary>
    private static SelfCheckResult RunTrainingStep()
    {
        var loaded = new RecipeLoader().LoadText(ShippedRecipes.Text("faster-rcnn")!, ShippedRecipes.PathOf("faster-rcnn"), ["train.batch=2"]);
        if (loaded.HasErrors) return new("one training step", false, string.Join("; ", loaded.Diagnostics));
        var recipe = loaded.Recipe!;
        var pipeline = RuntimePipelines.Default.Compile(recipe).Select(recipe);
        var data = new TrainingData(Pisa.Training.Data.Shapes.ShapesOptions.SourceName, false, 4, 2);
        var (train, val) = data.Load();
        string runs = Directory.CreateTempSubdirectory("pisa-doctor-").FullName;
        try
        {
            var losses = new Dictionary<string, double>();
            var result = TrainingRuns.Start(recipe, pipeline, data, train, val, new TrainingOptions(Device: "cpu", MaxIterations: 2, LogEvery: 1), runs,
                trainer => trainer.Progress += p => { foreach (var (k, v) in p.Losses) losses[k] = v; });
            string summary = string.Join(", ", losses.Where(l => l.Key != "lr").Select(l => $"{l.Key} {l.Value:0.###}"));
            return new($"two steps of {recipe.Name} (builtin:shapes, batch 2)", true, $"finite losses and gradients: {summary}");
        }
        catch (TrainingException ex) { return new($"two steps of {recipe.Name}", false, ex.Message); }
        finally { Directory.Delete(runs, recursive: true); }
    }

    private static Stream Resource(string name) =>
        typeof(DoctorCommand).Assembly.GetManifestResourceStream($"doctor/{name}") ?? throw new InvalidOperationException($"pisa was built without its doctor/{name} resource");
}
