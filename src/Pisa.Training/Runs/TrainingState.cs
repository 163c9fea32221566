using System.Text.Json;
using Pisa.Training.Engine;
using static TorchSharp.torch;

namespace Pisa.Training.Runs;

/// <summary>
/// What a checkpoint's model and optimizer do not hold but an exact resume needs: the global step (the loader's
/// position and the schedule follow from it) and the sampling generator's state. Written beside each checkpoint as
/// <c>step-N.state.json</c> before the checkpoint itself, whose atomic rename commits both; <see cref="CheckpointWriter"/>
/// owns the pair.
/// </summary>
/// <param name="ElapsedSeconds">Wall time of the run up to the checkpoint, so a resumed run's clock goes on from there
/// (0 in state files written before it was recorded).</param>
public sealed record TrainingState(long Step, string GeneratorState, double ElapsedSeconds = 0)
{
    public static TrainingState Capture(long step, Generator generator, TimeSpan elapsed)
    {
        using var state = generator.get_state();
        return new TrainingState(step, Convert.ToBase64String(state.data<byte>().ToArray()), elapsed.TotalSeconds);
    }

    public void Restore(Generator generator)
    {
        using var state = tensor(Convert.FromBase64String(GeneratorState));
        generator.set_state(state);
    }

    public void Write(string path)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this));
        File.Move(temp, path, overwrite: true);
    }

    /// <exception cref="TrainingException">The file is missing or unreadable (named).</exception>
    public static TrainingState Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path)) ?? throw new JsonException("empty");
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            throw new TrainingException($"{path}: cannot read the resume state: {ex.Message}");
        }
    }
}
