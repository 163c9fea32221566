using System.Diagnostics;

namespace Pisa.Training.Tests;

/// <summary>
/// A python3 with torch and torchvision (Debian's python3-torch / python3-torchvision, which <c>.ci/run</c> installs),
/// for tests that check our numbers against PyTorch's. Debian's /usr/bin/python3 comes first: a python3 earlier on
/// the PATH (pyenv) may lack the Debian packages.
/// </summary>
public static class PythonTorch
{
    private static readonly Lazy<(string? Executable, string? Missing)> Found = new(Find);

    /// <summary>The interpreter, or null when none has torch and torchvision (see <see cref="Missing"/>).</summary>
    public static string? Executable => Found.Value.Executable;

    /// <summary>Why the PyTorch tests cannot run, or null when they can.</summary>
    public static string? Missing => Found.Value.Missing;

    /// <summary>Runs a script of tests/Pisa.Training.Tests/Python with arguments; throws with its output when it fails.</summary>
    public static void Run(string script, params string[] arguments) =>
        RunFile(Path.Combine(Pisa.Testing.RepoPaths.InRoot("tests", "Pisa.Training.Tests", "Python"), script), arguments);

    /// <summary>Runs the script at <paramref name="path"/> with arguments; throws with its output when it fails.</summary>
    public static void RunFile(string path, params string[] arguments)
    {
        var (code, output) = Start(Executable ?? throw new InvalidOperationException(Missing), [path, .. arguments], TimeSpan.FromMinutes(3));
        if (code != 0) throw new InvalidOperationException($"{Path.GetFileName(path)} exited with {code}:\n{output}");
    }

    private static (string?, string?) Find()
    {
        string[] candidates = File.Exists("/usr/bin/python3") ? ["/usr/bin/python3", "python3"] : ["python3"];
        var reasons = new List<string>();
        foreach (string candidate in candidates)
        {
            try
            {
                var (code, output) = Start(candidate, ["-c", "import torch, torchvision"], TimeSpan.FromMinutes(1));
                if (code == 0) return (candidate, null);
                reasons.Add($"{candidate}: {output.Trim().Split('\n')[^1]}");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                reasons.Add($"{candidate}: not found");
            }
        }
        return (null, "no python3 with torch and torchvision (apt-get install python3-torch python3-torchvision): " + string.Join("; ", reasons));
    }

    private static (int Code, string Output) Start(string executable, string[] arguments, TimeSpan timeout)
    {
        using var process = Process.Start(new ProcessStartInfo(executable, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} {string.Join(' ', arguments)} took more than {timeout}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>A fact that needs <see cref="PythonTorch"/>: reported as skipped, with the reason, when there is none.</summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    public PythonTorchFactAttribute()
    {
        if (PythonTorch.Missing is string why) Skip = why;
    }
}

/// <summary>A theory that reports skipped, with the reason, where no python3 has torch and torchvision.</summary>
public sealed class PythonTorchTheoryAttribute : TheoryAttribute
{
    public PythonTorchTheoryAttribute()
    {
        if (PythonTorch.Missing is string why) Skip = why;
    }
}
