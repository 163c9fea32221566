// Pisa.Dsl build script. `dotnet tool restore && dotnet cake` runs the default target, Test.
// Targets: Restore, Build, Conformance, Test (default; runs Conformance first), Bench, Pack, Demo.
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
    // Our own conformance cases through the real command line (also run by Pisa.Kernels.Tests).
    DotNetExecute($"./src/Pisa.Cli/bin/{configuration}/net10.0/pisa.dll", new ProcessArgumentBuilder().Append("conformance").Append("tests/conformance"));
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
        var counters = XDocument.Load(trx.FullPath).Descendants().First(e => e.Name.LocalName == "Counters");
        int Count(string name) => int.Parse(counters.Attribute(name)?.Value ?? "0");
        passed += Count("passed");
        failed += Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        skipped += Count("notExecuted");
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

Task("Pack")
    .Does(() =>
{
    CleanDirectory(artifacts + Directory("packages"));
    DotNetPack(solution, new DotNetPackSettings { Configuration = "Release", OutputDirectory = artifacts + Directory("packages") });
});

Task("Demo")
    .Does(() => DotNetRun("./src/Pisa.Cli/Pisa.Cli.csproj",
        new ProcessArgumentBuilder().Append("train").Append("recipes/faster-rcnn.yaml"),
        new DotNetRunSettings { Configuration = "Release" }));

RunTarget(target);
