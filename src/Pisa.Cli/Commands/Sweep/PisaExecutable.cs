namespace Pisa.Cli.Commands.Sweep;

/// <summary>
/// The command line that starts this same <c>pisa</c> build: its apphost beside the assembly, or <c>dotnet pisa.dll</c>.
/// Sweep tasks run through it (child processes, Slurm batch scripts), so on a cluster the build must sit on the shared
/// file system.
/// </summary>
internal static class PisaExecutable
{
    public static IReadOnlyList<string> Command()
    {
        string assembly = typeof(PisaApp).Assembly.Location;
        string directory = Path.GetDirectoryName(assembly)!;
        string host = Path.Combine(directory, OperatingSystem.IsWindows() ? "pisa.exe" : "pisa");
        if (File.Exists(host)) return [host];
        string dotnet = Environment.ProcessPath is { } process && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
        return [dotnet, Path.Combine(directory, "pisa.dll")];
    }
}
