// Pisa.Dsl build script. `dotnet tool restore && dotnet cake` runs the default target, Test.
// Targets: Restore, Build, Conformance, Test (default; runs Conformance first), Bench, Pack, Demo, Compare.
using System.Xml.Linq;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Debug");
var solution = "./Pisa.Dsl.sln";
var artifacts = Directory("./artifacts");
var testResults = artifacts + Directory("test-results");

Task("Restore")
    .Does(() => DotNetRestore(solution));

Task("Build")
    .IsDependentOn("Restore")
    .Does(() => DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration, NoRestore = true }));

Task("Conformance")
    .IsDependentOn("Build")
    .Does(() =>
{
    // Our own conformance cases through the real command line (tests/conformance is also run by Pisa.Kernels.Tests; SelfCheck/ by pisa doctor).
    DotNetExecute($"./src/Pisa.Cli/bin/{configuration}/net10.0/pisa.dll", new ProcessArgumentBuilder().Append("conformance").Append("tests/conformance").Append("src/Pisa.Conformance/SelfCheck"));
});

Task("Test")
    .IsDependentOn("Conformance")
    .Does(() =>
{
    CleanDirectory(testResults);
    Exception failure = null;
    try
    {
        DotNetTest(solution, new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            ResultsDirectory = testResults,
            Loggers = { "trx", "console;verbosity=minimal" },
        });
    }
    catch (Exception ex) { failure = ex; }

    // One line summed over every test project, read from the trx files (the line CI reports).
    int passed = 0, failed = 0, skipped = 0;
    foreach (var trx in GetFiles($"{testResults}/**/*.trx"))
    {
        var document = XDocument.Load(trx.FullPath);
        var counters = document.Descendants().First(e => e.Name.LocalName == "Counters");
        int Count(string name) => int.Parse(counters.Attribute(name)?.Value ?? "0");
        passed += Count("passed");
        failed += Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        // The trx logger leaves skipped tests out of its counters (notExecuted stays 0): count their results.
        skipped += document.Descendants().Count(e => e.Name.LocalName == "UnitTestResult" && (string)e.Attribute("outcome") == "NotExecuted");
    }
    Information(skipped > 0 ? $"{passed} passed, {failed} failed, {skipped} skipped" : $"{passed} passed, {failed} failed");
    if (failure != null || failed > 0) throw new Exception("Tests failed.", failure);
});

Task("Bench")
    .Does(() =>
{
    EnsureDirectoryExists(artifacts);
    foreach (var suite in new[] { "kernels", "generator" })
        DotNetRun("./src/Pisa.Cli/Pisa.Cli.csproj",
            new ProcessArgumentBuilder().Append("bench").Append(suite).Append("--threads").Append("1").Append("--json").Append($"artifacts/bench-{suite}.json"),
            new DotNetRunSettings { Configuration = "Release" });
});

// Without --package-version, packs are pre-releases named after the source (build/PackageVersion.targets); a release
// states its version: dotnet cake --target=Pack --package-version=0.1.0
var packageVersion = Argument("package-version", "");

Task("Pack")
    .Does(() =>
{
    CleanDirectory(artifacts + Directory("packages"));
    var settings = new DotNetPackSettings { Configuration = "Release", OutputDirectory = artifacts + Directory("packages"), MSBuildSettings = new DotNetMSBuildSettings() };
    if (packageVersion != "") settings.MSBuildSettings.WithProperty("Version", packageVersion);
    DotNetPack(solution, settings);
});

Task("Demo")
    .Does(() => DotNetRun("./src/Pisa.Cli/Pisa.Cli.csproj",
        new ProcessArgumentBuilder().Append("train").Append("recipes/faster-rcnn.yaml"),
        new DotNetRunSettings { Configuration = "Release" }));

// The recipe comparison: the five shipped recipes trained on builtin:shapes with one seed and one schedule into
// runs-compare/, then `pisa compare` → docs/results/compare.{md,csv}. Not part of Test: the recipes' own schedule takes
// about 45 minutes on a 2-core machine. The schedule is set here only, as --set overrides given to every run:
//   dotnet cake --target=Compare --compare-set="train.epochs=6;train.lr_steps=[4,5]"
// (';'-separated; empty, the default, keeps each recipe's own train: settings). --compare-data=DIR trains on a COCO
// folder instead (a few exported images make a quick check of the whole path).
var compareRecipes = new[] { "faster-rcnn", "libra-faster-rcnn", "pisa-faster-rcnn", "retinanet", "pisa-retinanet" };
var compareSeed = Argument("compare-seed", 0);
var compareSet = Argument("compare-set", "");
var compareData = Argument("compare-data", "builtin:shapes");

Task("Compare")
    .Does(() =>
{
    DotNetBuild("./src/Pisa.Cli/Pisa.Cli.csproj", new DotNetBuildSettings { Configuration = "Release" });
    var pisa = "./src/Pisa.Cli/bin/Release/net10.0/pisa.dll";
    var overrides = new[] { $"train.seed={compareSeed}" }.Concat(compareSet.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    var runs = new List<string>();
    foreach (var recipe in compareRecipes)
    {
        var arguments = new ProcessArgumentBuilder().Append("train").Append($"recipes/{recipe}.yaml").Append("--data").AppendQuoted(compareData).Append("--out").Append("runs-compare");
        foreach (var setting in overrides) arguments.Append("--set").AppendQuoted(setting);
        DotNetExecute(pisa, arguments);
        // The run just made: run folders are named by their UTC start time, so the newest sorts last.
        runs.Add(System.IO.Directory.GetDirectories($"runs-compare/{recipe}/default").OrderBy(d => d, StringComparer.Ordinal).Last());
    }
    var compare = new ProcessArgumentBuilder().Append("compare");
    foreach (var run in runs) compare.AppendQuoted(run);
    DotNetExecute(pisa, compare.Append("--out").Append("docs/results"));
});

RunTarget(target);
