namespace Pisa.Testing;

/// <summary>Where the repository and the read-only shared material live, found from the test's output folder.</summary>
public static class RepoPaths
{
    /// <summary>The repository root (the folder holding Pisa.Dsl.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The shared folder beside the repository (../shared), holding spec, conformance, eval cases and the workload.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string InRoot(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string InShared(params string[] parts) => Path.Combine([Shared, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pisa.Dsl.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Pisa.Dsl.sln not found above {AppContext.BaseDirectory}");
    }
}
