// Pisa.Dsl build script. `dotnet tool restore && dotnet cake` runs the default target, Test.
// Targets: Restore, Build, Test (default), Bench, Pack, Demo.
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

Task("Test")
    .IsDependentOn("Build")
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
    .Does(() => DotNetRun("./src/Pisa.Cli/Pisa.Cli.csproj", new ProcessArgumentBuilder().Append("bench").Append("kernels"),
        new DotNetRunSettings { Configuration = "Release" }));

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
