using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Pisa.Generators.Tests;

/// <summary>
/// Every packable project of the solution, packed once to a local folder feed with a version of its own (so NuGet's
/// global cache never serves a stale package). Consumers restore from that feed plus the global packages folder, which
/// holds every third-party package the repository restored (this machine's NuGet is a partial mirror).
/// </summary>
public sealed class PackedFeed : IDisposable
{
    private static readonly string Configuration =
        typeof(PackedFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public string Work { get; } = Directory.CreateTempSubdirectory("pisa-packages-").FullName;

    public string Feed => Path.Combine(Work, "feed");

    public string Version { get; } = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";

    public PackedFeed() =>
        Run(RepoPaths.Root, "dotnet", "pack", "Pisa.Dsl.sln", "-c", Configuration, "--no-build", "-o", Feed, $"-p:PackageVersion={Version}");

    /// <summary>A project folder whose nuget.config knows only the feed and the global packages folder.</summary>
    public string NewProject(string name, string packageId)
    {
        string folder = Path.Combine(Work, name);
        Directory.CreateDirectory(folder);
        string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="feed" value="{Feed}" />
                <add key="global-packages" value="{globalPackages}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup><PackageReference Include="{packageId}" Version="{Version}" /></ItemGroup>
            </Project>
            """);
        return folder;
    }

    public void Dispose()
    {
        try { Directory.Delete(Work, recursive: true); } catch (IOException) { }
    }

    /// <summary>Runs a command that must succeed; returns everything it printed.</summary>
    public static string Run(string directory, params string[] command)
    {
        var (exitCode, output) = Execute(directory, command);
        Assert.True(exitCode == 0, $"{string.Join(' ', command)} in {directory} exited {exitCode}:\n{output}");
        return output;
    }

    /// <summary>Runs a command; returns its exit code and everything it printed.</summary>
    public static (int ExitCode, string Output) Execute(string directory, params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in command[1..]) start.ArgumentList.Add(argument);
        // The test host's MSBuild variables would point the child build at this test's own SDK context.
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" }) start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); throw new TimeoutException(string.Join(' ', command)); }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>
/// The package as a user meets it: a project with one PackageReference to Pisa.Dsl, recipes of its own derived from
/// the shipped ones, an attributed class, and (for the first build) a broken recipe.
/// </summary>
public class PackageConsumerTests(PackedFeed packages) : IClassFixture<PackedFeed>
{
    [Fact]
    public void A_consumer_derives_from_shipped_recipes_sees_one_error_per_broken_recipe_and_gets_the_schema_where_the_docs_say()
    {
        string consumer = packages.NewProject("Consumer", "Pisa.Dsl");
        string source = Path.Combine(AppContext.BaseDirectory, "Consumer");
        File.Copy(Path.Combine(source, "Program.cs.txt"), Path.Combine(consumer, "Program.cs"));
        File.Copy(Path.Combine(source, "Recipes.cs.txt"), Path.Combine(consumer, "Recipes.cs"));
        Directory.CreateDirectory(Path.Combine(consumer, "recipes"));
        foreach (string recipe in Directory.GetFiles(Path.Combine(source, "recipes")))
            File.Copy(recipe, Path.Combine(consumer, "recipes", Path.GetFileName(recipe)));
        string retinanet = Path.Combine(consumer, "recipes", "my-retinanet.yaml");
        string sound = File.ReadAllText(retinanet);

        // First build: my-retinanet.yaml is broken (pos_iou 1.5). Its one error, located, and nothing else: Program.cs
        // names its pipeline, which exists as a stand-in.
        File.WriteAllText(retinanet, sound.Replace("pos_iou: 0.6", "pos_iou: 1.5"));
        var (exitCode, output) = PackedFeed.Execute(consumer, "dotnet", "build");
        Assert.NotEqual(0, exitCode);
        var errors = Regex.Matches(output, @"^.*: error [A-Z]+\d+:.*$", RegexOptions.Multiline).Select(m => Regex.Replace(m.Value.Trim(), @" \[[^\]]+\.csproj\]$", "")).Distinct().ToList();
        string error = Assert.Single(errors);
        Assert.StartsWith(Path.Combine(consumer, "recipes", "my-retinanet.yaml") + "(4,20): error PISA0006: 'assign.pos_iou' is 1.5", error);
        Assert.DoesNotContain("error CS", output);

        // The schema is where the generator README and Pisa.Dsl.targets say, and the recipes' first line finds it.
        string schema = Path.Combine(consumer, "obj", "pisa", "recipe.schema.json");
        Assert.Equal(File.ReadAllText(RepoPaths.InRoot("schemas", "recipe.schema.json")), File.ReadAllText(schema));
        Assert.Contains("# yaml-language-server: $schema=../obj/pisa/recipe.schema.json", File.ReadAllText(RepoPaths.InRoot("generators", "Pisa.Generators", "README.md")));
        Assert.Equal(schema, Path.GetFullPath(Path.Combine(consumer, "recipes", "../obj/pisa/recipe.schema.json")));

        // Fixed, it builds and both pipelines derived from shipped recipes sample and compute finite losses.
        File.WriteAllText(retinanet, sound);
        string run = PackedFeed.Run(consumer, "dotnet", "run", "--no-restore");
        foreach (string name in new[] { "attributed", "yaml" })
            foreach (string loss in new[] { "loss_cls=", "loss_bbox=", "loss_carl=" })
                Assert.Contains($"{name}.{loss}", run);
        Assert.DoesNotContain("NaN", run);
        Assert.Contains("single-stage=my-retinanet", run);
        Assert.Contains("catalog=my-pisa,my-retinanet,pisa-faster-rcnn", run);
    }

    [Fact]
    public void Every_package_the_solution_packs_restores_on_its_own_into_an_empty_project()
    {
        var packed = Directory.GetFiles(packages.Feed, "*.nupkg").Select(PackageId).Order(StringComparer.Ordinal).ToList();
        // Pisa.Dsl and what it depends on, plus the evaluator and the training loop; never a package that needs an unpacked one.
        Assert.Equal(["Pisa.Dsl", "Pisa.Evaluation", "Pisa.Kernels", "Pisa.Recipes", "Pisa.Training"], packed);
        foreach (string id in packed)
        {
            string project = packages.NewProject("Restore" + id.Replace(".", ""), id);
            PackedFeed.Run(project, "dotnet", "restore");
        }
    }

    private static string PackageId(string nupkg)
    {
        using var archive = ZipFile.OpenRead(nupkg);
        var nuspec = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = nuspec.Open();
        return XDocument.Load(stream).Descendants().First(e => e.Name.LocalName == "id").Value;
    }
}

/// <summary>Local packs get a fresh pre-release version, the same in every project of a pack; a stated version stays.</summary>
public class PackageVersionTests
{
    /// <summary>The version NuGet's pack gives a project, asked the way a sibling's pack asks for it.</summary>
    private static string PackageVersionOf(string project, params string[] properties) =>
        PackedFeed.Run(RepoPaths.Root, ["dotnet", "msbuild", project, "-t:_GetProjectVersion", "-getProperty:PackageVersion", .. properties]).Trim();

    [Fact]
    public void A_pack_without_a_version_is_a_dev_pre_release_named_alike_in_every_project()
    {
        string recipes = PackageVersionOf("src/Pisa.Recipes/Pisa.Recipes.csproj");
        Assert.Matches(@"^0\.1\.0-dev\.\d+(\.dirty-[0-9a-f]{10})?$", recipes);
        Assert.Equal(recipes, PackageVersionOf("src/Pisa.Kernels/Pisa.Kernels.csproj"));
    }

    [Fact]
    public void A_stated_release_version_is_used_as_given()
    {
        Assert.Equal("0.2.0", PackageVersionOf("src/Pisa.Kernels/Pisa.Kernels.csproj", "-p:Version=0.2.0"));
        Assert.Equal("0.1.0", PackageVersionOf("src/Pisa.Kernels/Pisa.Kernels.csproj", "-p:Version=0.1.0"));
    }
}
