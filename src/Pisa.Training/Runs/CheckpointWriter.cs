using System.Globalization;
using TorchSharp;
using Pisa.Training.Engine;
using TorchSharp.Modules;

namespace Pisa.Training.Runs;

/// <summary>
/// Checkpoints <c>step-{step:D8}.ckpt</c> in one folder: the model's state and, optionally, the optimizer's, in one file
/// written to a temporary name and renamed, so a crash never leaves a half-written checkpoint under a real name.
/// Only the last <see cref="KeepLast"/> checkpoints are kept. A training run saves each checkpoint with its
/// <see cref="TrainingState"/> (<c>step-N.state.json</c>): the writer owns that pair, writing the state first (the
/// checkpoint's rename commits both) and removing a pruned checkpoint's state with it.
/// <para>Format: the ASCII magic <c>PISACKPT</c>, a format version (int32), the step (int64), a flag for the
/// optimizer (bool), TorchSharp's <c>Module.save</c> stream, then <c>save_state_dict</c> of the optimizer.</para>
/// </summary>
public sealed class CheckpointWriter
{
    private const string Magic = "PISACKPT";
    private const int FormatVersion = 1;
    private const string Prefix = "step-", Extension = ".ckpt", StateExtension = ".state.json";

    public CheckpointWriter(string directory, int keepLast = 3)
    {
        if (keepLast < 1) throw new ArgumentOutOfRangeException(nameof(keepLast), "keep at least one checkpoint");
        (Directory, KeepLast) = (directory, keepLast);
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }
    public int KeepLast { get; }

    /// <summary>Writes the checkpoint of <paramref name="step"/>, then removes all but the newest <see cref="KeepLast"/>. Returns its path.</summary>
    public string Save(torch.nn.Module model, OptimizerHelper? optimizer, long step) => Save(model, optimizer, step, state: null);

    /// <summary>
    /// Writes <paramref name="state"/> beside the checkpoint of its step, then the checkpoint, then removes all but the
    /// newest <see cref="KeepLast"/> checkpoints with their states (and any state left without its checkpoint by a
    /// crash between the two writes). Returns the checkpoint's path.
    /// </summary>
    public string Save(torch.nn.Module model, OptimizerHelper optimizer, TrainingState state) => Save(model, optimizer, state.Step, state);

    /// <summary>The resume state saved with <paramref name="checkpointPath"/>, checked against the checkpoint's own step.</summary>
    /// <exception cref="TrainingException">The state file is missing, unreadable or of another step (named).</exception>
    public static TrainingState ReadState(string checkpointPath, long checkpointStep)
    {
        var state = TrainingState.Read(StatePath(checkpointPath));
        if (state.Step != checkpointStep) throw new TrainingException($"{checkpointPath}: step {checkpointStep}, but its resume state says {state.Step}");
        return state;
    }

    private static string StatePath(string checkpointPath) => Path.ChangeExtension(checkpointPath, StateExtension);

    private string Save(torch.nn.Module model, OptimizerHelper? optimizer, long step, TrainingState? state)
    {
        string path = Path.Combine(Directory, $"{Prefix}{step:D8}{Extension}");
        state?.Write(StatePath(path));
        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(System.Text.Encoding.ASCII.GetBytes(Magic));
                writer.Write(FormatVersion);
                writer.Write(step);
                writer.Write(optimizer is not null);
                model.save(writer);
                optimizer?.save_state_dict(writer);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        Prune();
        return path;
    }

    private void Prune()
    {
        foreach (var (_, old) in Checkpoints().SkipLast(KeepLast))
        {
            File.Delete(old);
            File.Delete(StatePath(old));
        }
        var kept = Checkpoints().Select(c => StatePath(c.Path)).ToHashSet();
        foreach (string orphan in System.IO.Directory.EnumerateFiles(Directory, $"{Prefix}*{StateExtension}").Where(s => !kept.Contains(s)))
            File.Delete(orphan);
    }

    /// <summary>The checkpoints in the folder, oldest step first.</summary>
    public IReadOnlyList<(long Step, string Path)> Checkpoints() =>
        System.IO.Directory.EnumerateFiles(Directory, $"{Prefix}*{Extension}")
            .Select(p => (Step: ParseStep(p), Path: p))
            .Where(c => c.Step >= 0)
            .OrderBy(c => c.Step)
            .ToList();

    /// <summary>The newest checkpoint, or null when there is none.</summary>
    public string? Latest => Checkpoints().LastOrDefault().Path;

    /// <summary>Restores a model (and the optimizer, when the file holds its state and one is given); returns the step.</summary>
    /// <exception cref="InvalidDataException">The file is not a Pisa checkpoint or has another format version.</exception>
    public static long Load(string path, torch.nn.Module model, OptimizerHelper? optimizer = null)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        string magic;
        try
        {
            magic = System.Text.Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length));
        }
        catch (EndOfStreamException)
        {
            magic = "";
        }
        if (magic != Magic) throw new InvalidDataException($"{path}: not a Pisa checkpoint");
        int version = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"{path}: checkpoint format {version}, this build reads {FormatVersion}");
        long step = reader.ReadInt64();
        bool hasOptimizer = reader.ReadBoolean();
        model.load(reader);
        if (hasOptimizer && optimizer is not null) optimizer.load_state_dict(reader);
        return step;
    }

    private static long ParseStep(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        return long.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long step) ? step : -1;
    }
}
