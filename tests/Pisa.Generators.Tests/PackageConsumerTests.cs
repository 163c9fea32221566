using System.Diagnostics;
using System.Reflection;

namespace Pisa.Generators.Tests;

/// <summary>
/// The consumer experience: pack Pisa.Dsl (and the two libraries it depends on) to a local folder feed, build a
/// throwaway project that has nothing but one PackageReference and a recipes/ folder, and run a generated pipeline.
/// </summary>
public class PackageConsumerTests
{
    private static readonly string Configuration =
        typeof(PackageConsumerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    [Fact]
    public void A_project_with_one_package_reference_gets_pipelines_from_its_recipes_and_runs_one()
    {
        string work = Directory.CreateTempSubdirectory("pisa-consumer-").FullName;
        try
        {
            string feed = Path.Combine(work, "feed"), consumer = Path.Combine(work, "consumer");
            // A version of its own, so NuGet's global cache never serves a stale package.
            string version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
            foreach (string project in new[] { "src/Pisa.Recipes", "src/Pisa.Kernels", "src/Pisa.Dsl" })
                Run(RepoPaths.Root, "dotnet", "pack", project, "-c", Configuration, "--no-build", "-o", feed, $"-p:PackageVersion={version}");

            Directory.CreateDirectory(Path.Combine(consumer, "recipes"));
            foreach (string recipe in new[] { "faster-rcnn.yaml", "pisa-faster-rcnn.yaml" })
                File.Copy(RepoPaths.InRoot("recipes", recipe), Path.Combine(consumer, "recipes", recipe));
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration><packageSources><add key="local" value="{feed}" /></packageSources></configuration>
                """);
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
                  <ItemGroup><PackageReference Include="Pisa.Dsl" Version="{version}" /></ItemGroup>
                </Project>
                """);
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Consumer", "Program.cs.txt"), Path.Combine(consumer, "Program.cs"));

            string output = Run(consumer, "dotnet", "run");
            Assert.Contains("catalog=faster-rcnn,pisa-faster-rcnn", output);
            foreach (string loss in new[] { "loss_cls=", "loss_bbox=", "loss_carl=" }) Assert.Contains(loss, output);
            Assert.DoesNotContain("NaN", output);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static string Run(string directory, string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        // The test host's MSBuild variables would point the child build at this test's own SDK context.
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" }) start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); throw new TimeoutException($"{command} {string.Join(' ', arguments)}"); }
        string all = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)} in {directory} exited {process.ExitCode}:\n{all}");
        return all;
    }
}
