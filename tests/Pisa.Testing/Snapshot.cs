using System.Runtime.CompilerServices;
using System.Text;
using Xunit.Sdk;

namespace Pisa.Testing;

/// <summary>
/// A small snapshot verifier that writes Verify's file names, so moving to Verify.Xunit (not restorable on the
/// project's machines) is a package change: <c>{Class}.{Method}#{hint}.verified.{ext}</c> beside the test file,
/// a <c>.received.</c> file on mismatch, <c>PISA_ACCEPT_SNAPSHOTS=1</c> (or Verify's <c>DiffEngine_Disabled</c>-free
/// accept flow: copy received over verified) to accept, and a missing snapshot fails when <c>CI=true</c>.
/// </summary>
public static class Snapshot
{
    /// <summary>Compares <paramref name="text"/> with the verified snapshot of the calling test.</summary>
    public static void Verify(string text, string? hint = null, string extension = "txt",
        [CallerFilePath] string sourceFile = "", [CallerMemberName] string method = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(sourceFile)!, "Snapshots");
        string testClass = Path.GetFileNameWithoutExtension(sourceFile);
        string stem = hint is null ? $"{testClass}.{method}" : $"{testClass}.{method}#{Sanitize(hint)}";
        string verified = Path.Combine(directory, $"{stem}.verified.{extension}");
        string received = Path.Combine(directory, $"{stem}.received.{extension}");
        string actual = Normalize(text);

        bool accept = Environment.GetEnvironmentVariable("PISA_ACCEPT_SNAPSHOTS") is "1" or "true";
        bool inCi = Environment.GetEnvironmentVariable("CI") is "true" or "1";

        if (File.Exists(verified) && Normalize(File.ReadAllText(verified)) == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }

        Directory.CreateDirectory(directory);
        if (accept || (!File.Exists(verified) && !inCi))
        {
            File.WriteAllText(verified, actual, new UTF8Encoding(false));
            if (File.Exists(received)) File.Delete(received);
            if (accept) return;
            throw new XunitException($"New snapshot written to {verified}; review it and run the test again.");
        }

        File.WriteAllText(received, actual, new UTF8Encoding(false));
        string why = File.Exists(verified) ? "does not match" : "is missing (CI never creates snapshots)";
        throw new XunitException(
            $"Snapshot {Path.GetFileName(verified)} {why}.\nReceived: {received}\n" +
            "Review the difference; accept with PISA_ACCEPT_SNAPSHOTS=1 or by renaming .received. to .verified.\n" +
            FirstDifference(File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : "", actual));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n') + "\n";

    private static string Sanitize(string hint)
    {
        var builder = new StringBuilder(hint.Length);
        foreach (char c in hint) builder.Append(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        return builder.ToString();
    }

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string left = i < e.Length ? e[i] : "<end>", right = i < a.Length ? a[i] : "<end>";
            if (left != right) return $"First difference at line {i + 1}:\n  verified: {left}\n  received: {right}";
        }
        return "";
    }
}
