using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pisa.Training.Sweeps;

/// <summary>Where a sweep task is. A task without a <c>task.json</c> is <see cref="Pending"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TaskPhase>))]
public enum TaskPhase { Pending, Running, Done, Failed, Preempted }

/// <summary>
/// A task's <c>task.json</c>, in its run folder, rewritten atomically at each change: its phase, how many times it
/// started, the step it reached, the error that failed it, and the Slurm job (or host and process) that ran it last.
/// </summary>
/// <param name="Message">The error of a failed task, the checkpoint of a preempted one.</param>
public sealed record TaskState(
    [property: JsonPropertyName("phase")] TaskPhase Phase,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("step")] long? Step,
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("runner")] string? Runner,
    [property: JsonPropertyName("updated")] DateTimeOffset Updated)
{
    public const string FileName = "task.json";

    public static readonly TaskState Pending = new(TaskPhase.Pending, 0, null, null, null, DateTimeOffset.MinValue);

    /// <summary>The state in a run folder, <see cref="Pending"/> when it has none (or an unreadable one: a task never half-writes it).</summary>
    public static TaskState Read(string runDirectory)
    {
        string path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return Pending;
        try
        {
            return JsonSerializer.Deserialize<TaskState>(File.ReadAllText(path)) ?? Pending;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return Pending with { Message = $"{path}: unreadable ({ex.Message})" };
        }
    }

    public void Write(string runDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(this with { Updated = DateTimeOffset.UtcNow }));
}

/// <summary>
/// The lock a running task holds on <c>task.lock</c> in its run folder (an exclusive open, an OS file lock released when
/// the process dies however it dies), so two processes never train the same task, and a task whose state says running
/// but whose lock is free was killed.
/// </summary>
public sealed class TaskLock : IDisposable
{
    public const string FileName = "task.lock";
    private readonly FileStream stream;

    private TaskLock(FileStream stream) => this.stream = stream;

    /// <summary>The lock, or null when another process holds it.</summary>
    public static TaskLock? TryTake(string runDirectory)
    {
        try
        {
            return new TaskLock(new FileStream(Path.Combine(runDirectory, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Whether a process holds the task's lock now.</summary>
    public static bool IsHeld(string runDirectory)
    {
        if (!File.Exists(Path.Combine(runDirectory, FileName))) return false;
        using var probe = TryTake(runDirectory);
        return probe is null;
    }

    public void Dispose() => stream.Dispose();
}
