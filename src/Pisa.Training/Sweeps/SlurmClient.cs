using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pisa.Training.Sweeps;

/// <summary>One <c>pisa sweep submit</c>: the array job, the report job that depends on it, and the tasks it ran.</summary>
public sealed record SlurmSubmission(
    [property: JsonPropertyName("array_job")] string ArrayJob,
    [property: JsonPropertyName("report_job")] string ReportJob,
    [property: JsonPropertyName("array")] string Array,
    [property: JsonPropertyName("submitted")] DateTimeOffset Submitted)
{
    public const string FileName = "submissions.json";

    public static IReadOnlyList<SlurmSubmission> ReadAll(SweepFolder sweep)
    {
        string path = Path.Combine(sweep.SlurmDirectory, FileName);
        if (!File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<SlurmSubmission>>(File.ReadAllText(path)) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    public static void Append(SweepFolder sweep, SlurmSubmission submission) =>
        AtomicFile.WriteAllText(Path.Combine(sweep.SlurmDirectory, FileName),
            JsonSerializer.Serialize(ReadAll(sweep).Append(submission).ToList(), new JsonSerializerOptions { WriteIndented = true }));
}

/// <summary>The Slurm commands a sweep uses (<c>sbatch</c>, <c>squeue</c>, <c>sacct</c>), run as child processes.</summary>
public static class SlurmClient
{
    /// <summary>Submits a batch script; returns the job id.</summary>
    /// <exception cref="SweepException">sbatch is missing or refused the job (its message).</exception>
    public static string Submit(string script, IEnumerable<string> arguments)
    {
        var (code, output, error) = Run("sbatch", ["--parsable", .. arguments, script]);
        if (code != 0) throw new SweepException($"sbatch {script}: {(error.Length > 0 ? error : output).Trim()} (exit code {code})");
        return output.Trim().Split(';')[0]; // --parsable prints "id" or "id;cluster"
    }

    /// <summary>
    /// What Slurm says of each array task of <paramref name="arrayJobs"/>, keyed by task index (the newest submission
    /// wins): <c>squeue</c> for tasks in the queue, then <c>sacct</c> for ended ones where accounting is on. Empty
    /// when neither command is there or answers.
    /// </summary>
    public static IReadOnlyDictionary<int, string> States(IReadOnlyList<string> arrayJobs)
    {
        var states = new Dictionary<int, string>();
        if (arrayJobs.Count == 0) return states;
        string jobs = string.Join(",", arrayJobs);
        var (accountingCode, accounting, _) = Run("sacct", ["--noheader", "--parsable2", "--allocations", "--jobs", jobs, "--format", "JobID,State"]);
        if (accountingCode == 0) Parse(accounting, states, '_', idColumn: 0, stateColumn: 1);
        var (queueCode, queue, _) = Run("squeue", ["--noheader", "--array", "--jobs", jobs, "--format", "%F|%K|%T"]);
        if (queueCode == 0)
            foreach (string line in queue.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] cells = line.Split('|');
                if (cells.Length == 3 && int.TryParse(cells[1], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                    states[index] = cells[2];
            }
        return states;
    }

    private static void Parse(string text, Dictionary<int, string> states, char separator, int idColumn, int stateColumn)
    {
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] cells = line.Split('|');
            if (cells.Length <= Math.Max(idColumn, stateColumn)) continue;
            string[] id = cells[idColumn].Split(separator);
            if (id.Length == 2 && int.TryParse(id[1], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                states[index] = cells[stateColumn].Split(' ')[0];
        }
    }

    /// <summary>Runs a Slurm command (30 s at most); exit code 127 when it is not installed.</summary>
    public static (int Code, string Output, string Error) Run(string command, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (127, "", $"{command}: {ex.Message}");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill();
                return (124, "", $"{command}: no answer within 30 s");
            }
            return (process.ExitCode, output.Result, error.Result);
        }
    }
}
