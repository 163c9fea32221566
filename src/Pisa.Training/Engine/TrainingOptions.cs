namespace Pisa.Training.Engine;

/// <summary>How one run is carried out, beyond the recipe's <c>train:</c> settings (which say what is trained).</summary>
/// <param name="Device">cpu or cuda; null picks CUDA when TorchSharp has it, else the CPU.</param>
/// <param name="MaxIterations">Stop (with a checkpoint) once the global iteration count reaches this; null runs the schedule.</param>
/// <param name="LogEvery">Iterations between loss readings: the only host synchronisation of the loop.</param>
/// <param name="EvaluateEvery">Epochs between evaluations on the val split (the last epoch is always evaluated).</param>
/// <param name="CheckpointEvery">Epochs between checkpoints (the last epoch and a stop always write one).</param>
/// <param name="ClipGradNorm">Gradient clipping by global norm (mmdetection's RetinaNet value); null = off.</param>
/// <param name="DetectAnomaly">Check every step's loss and gradients on the host (one read per step) and re-run a
/// non-finite step under autograd's anomaly mode, which names the operation that produced the NaN.</param>
/// <param name="Prefetch">Training batches prepared ahead on a background thread (<see cref="Data.Prefetcher"/>); 0 prepares
/// each when the loop asks for it. Batches and their order are the same either way.</param>
/// <param name="Model">Sizes of the small detector (its class count is replaced by the data's); null = <see cref="Trainer.DefaultModel"/>.
/// A run folder does not record it: <c>pisa eval</c> rebuilds the default. A recipe with a ResNet backbone ignores it
/// (<see cref="Trainer.ModelFor"/>).</param>
public sealed record TrainingOptions(
    string? Device = null,
    long? MaxIterations = null,
    int LogEvery = 20,
    int EvaluateEvery = 1,
    int CheckpointEvery = 1,
    int KeepCheckpoints = 2,
    double? ClipGradNorm = 35,
    Pisa.Training.Models.DetectorOptions? Model = null,
    bool DetectAnomaly = false,
    int Prefetch = 2)
{
    /// <summary>The device the options ask for, or the best one available.</summary>
    public TorchSharp.torch.Device ResolveDevice() => Device switch
    {
        null => TorchSharp.torch.cuda.is_available() ? TorchSharp.torch.CUDA : TorchSharp.torch.CPU,
        "cpu" => TorchSharp.torch.CPU,
        "cuda" when TorchSharp.torch.cuda.is_available() => TorchSharp.torch.CUDA,
        "cuda" => throw new TrainingException("--device cuda: TorchSharp found no CUDA device (is a libtorch-cuda package installed?)"),
        _ => throw new TrainingException($"--device {Device}: expected cpu or cuda"),
    };
}

/// <summary>A run that cannot go on for a reason the user can act on (bad option, diverged loss, missing checkpoint).</summary>
public sealed class TrainingException(string message) : Exception(message);
