using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;

namespace Pisa.Training.Runs;

/// <summary>
/// Checkpoints <c>step-{step:D8}.ckpt</c> in one folder: the model's state and, optionally, the optimizer's, in one file
/// written to a temporary name and renamed, so a crash never leaves a half-written checkpoint under a real name.
/// Only the last <see cref="KeepLast"/> checkpoints are kept.
/// <para>Format: the ASCII magic <c>PISACKPT</c>, a format version (int32), the step (int64), a flag for the
/// optimizer (bool), TorchSharp's <c>Module.save</c> stream, then <c>save_state_dict</c> of the optimizer.</para>
/// </summary>
public sealed class CheckpointWriter
{
    private const string Magic = "PISACKPT";
    private const int FormatVersion = 1;
    private const string Prefix = "step-", Extension = ".ckpt";

    public CheckpointWriter(string directory, int keepLast = 3)
    {
        if (keepLast < 1) throw new ArgumentOutOfRangeException(nameof(keepLast), "keep at least one checkpoint");
        (Directory, KeepLast) = (directory, keepLast);
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }
    public int KeepLast { get; }

    /// <summary>Writes the checkpoint of <paramref name="step"/>, then removes all but the newest <see cref="KeepLast"/>. Returns its path.</summary>
    public string Save(torch.nn.Module model, OptimizerHelper? optimizer, long step)
    {
        string path = Path.Combine(Directory, $"{Prefix}{step:D8}{Extension}");
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
        foreach (var (_, old) in Checkpoints().SkipLast(KeepLast)) File.Delete(old);
        return path;
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
