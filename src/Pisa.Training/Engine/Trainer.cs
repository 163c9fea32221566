using System.Diagnostics;
using Pisa.Evaluation.Coco;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Models;
using Pisa.Training.Platform;
using Pisa.Training.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Engine;

/// <summary>Where a run is: sent every <see cref="TrainingOptions.LogEvery"/> iterations and after each evaluation.</summary>
/// <param name="Losses">The mean of each loss over the last logging window (and <c>loss</c>, their sum).</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Iteration, int IterationsPerEpoch, long Step, long TotalSteps,
    double LearningRate, IReadOnlyDictionary<string, double> Losses, TimeSpan Elapsed);

/// <summary>How a run ended.</summary>
/// <param name="Completed">False when it stopped early (<c>--max-iters</c>, Ctrl-C); the last checkpoint resumes it.</param>
/// <param name="Validation">The last evaluation, or null when none ran.</param>
public sealed record TrainingResult(string RunDirectory, bool Completed, long Step, ValidationResult? Validation, TimeSpan Elapsed);

/// <summary>
/// The training loop: SGD with momentum and weight decay, warm-up and the recipe's schedule, optional clipping, one
/// dispose scope per iteration (native memory stays flat), losses read back only every
/// <see cref="TrainingOptions.LogEvery"/> iterations, a checkpoint and an evaluation after each epoch, and an exact
/// resume from any checkpoint (model, optimizer, step, generator; the loader and the schedule follow from the step).
/// </summary>
public sealed class Trainer
{
    private readonly Recipe recipe;
    private readonly PipelineInfo pipeline;
    private readonly DetectionDataset train, val;
    private readonly TrainingOptions options;
    private readonly TrainSettings settings;

    public Trainer(Recipe recipe, PipelineInfo pipeline, DetectionDataset train, DetectionDataset val, TrainingOptions options)
    {
        if (train.Count < recipe.Train.Batch)
            throw new TrainingException($"{train.Name}: {train.Count} training images, fewer than one batch of {recipe.Train.Batch}");
        (this.recipe, this.pipeline, this.train, this.val, this.options, settings) = (recipe, pipeline, train, val, options, recipe.Train);
    }

    /// <summary>Progress, from the training thread.</summary>
    public event Action<TrainingProgress>? Progress;

    /// <summary>One-line notes (evaluation results, checkpoints), from the training thread.</summary>
    public event Action<string>? Message;

    /// <summary>The model sizes runs train by default (a function of the data's classes only, so <c>pisa eval</c> rebuilds them).</summary>
    /// <remarks>The box head pools 16 channels into 128 hidden units: with 512 RoIs per image its first layer dominates
    /// the step, and at this size it costs a quarter of the model's default (32 → 256) for little accuracy on 128 px scenes.</remarks>
    public static DetectorOptions DefaultModel(int numClasses) => new(numClasses, RoiChannels: 16, BoxHeadHiddenDim: 128);

    /// <summary>
    /// The detector a recipe's <c>model:</c> section asks for, for the data's classes: with <c>backbone: small</c>,
    /// <paramref name="sizes"/> (or <see cref="DefaultModel"/>); with a ResNet, <see cref="DetectorOptions.MmdetResNet"/>.
    /// A function of the resolved recipe and the data only, so <c>pisa eval</c> and <c>pisa export</c> rebuild the same model.
    /// </summary>
    public static DetectorOptions ModelFor(Recipe recipe, int numClasses, DetectorOptions? sizes = null) => recipe.Model.Backbone == BackboneKind.Small
        ? (sizes ?? DefaultModel(numClasses)) with { NumClasses = numClasses }
        : DetectorOptions.MmdetResNet(numClasses, recipe.Model.Backbone, recipe.Model.FrozenStages, recipe.Model.NormEval);

    /// <summary>
    /// How the recipe's images become batches: the square <c>image_size</c> resize, or with <c>train.scale</c> the keep-ratio
    /// resize (multi-scale in training when <c>train.multiscale</c> is set) padded to <c>train.pad_divisor</c>. Training
    /// shuffles, flips and drops the last short batch; evaluation keeps the order and every image. A ResNet normalises its
    /// input with the ImageNet mean and std, so its batches are padded with the mean colour (0 after normalising, as
    /// mmdetection pads); the small backbone's with black.
    /// </summary>
    public static LoaderOptions LoaderFor(Recipe recipe, bool training)
    {
        var settings = recipe.Train;
        var square = training
            ? new LoaderOptions(settings.Batch, settings.ImageSize, settings.ImageSize, Seed: settings.Seed, DropLast: true)
            : LoaderOptions.ForEvaluation(settings.Batch, settings.ImageSize, settings.ImageSize);
        if (settings.Scale is not { } scale) return square;
        return square with
        {
            KeepRatio = new KeepRatioScale(scale[0], scale[1]),
            ShortSides = training ? settings.MultiScale?.ToArray() : null,
            PadDivisor = settings.PadDivisor,
            PadColour = recipe.Model.Backbone == BackboneKind.Small ? null : ResNetBackbone.ImageNetMean,
        };
    }

    /// <summary>Trains into <paramref name="run"/>: a new run, or with <paramref name="resume"/> the continuation of the run there.</summary>
    public TrainingResult Run(RunFolder run, bool resume, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var device = options.ResolveDevice();
        Message?.Invoke(TorchPlatform.Configure().Describe());
        torch.manual_seed(settings.Seed);
        int classes = train.Categories.Count;
        using var runner = DetectorRunner.Create(recipe, pipeline, ModelFor(recipe, classes, options.Model));
        if (!resume && recipe.Model.Pretrained is string pretrained)
            Message?.Invoke(PretrainedWeights.LoadBackbone(runner.Model, PretrainedWeights.Resolve(recipe, pretrained)));
        runner.Model.to(device);
        runner.Model.train();
        using var optimizer = torch.optim.SGD(runner.Model.parameters(), settings.Lr, settings.Momentum, weight_decay: settings.WeightDecay);
        using var generator = new Generator((ulong)settings.Seed, device);
        var loader = new DetectionLoader(train, LoaderFor(recipe, training: true));
        int perEpoch = loader.BatchesPerEpoch;
        var schedule = new LearningRateSchedule(settings, perEpoch);
        var checkpoints = new CheckpointWriter(run.CheckpointsDirectory, options.KeepCheckpoints);

        var (step, before) = resume ? Restore(run, checkpoints, runner.Model, optimizer, generator) : (0, TimeSpan.Zero);
        TimeSpan Elapsed() => before + clock.Elapsed;
        var log = new RunLog(run, resumeAt: resume ? step : null);
        ValidationResult? validation = null;
        var parameters = runner.Model.named_parameters().Where(p => p.parameter.requires_grad).ToArray();
        var window = new LossWindow(parameters.Select(p => p.name).ToArray(), options.LogEvery);
        var dataWait = new DataWait();
        try
        {
            for (int epoch = (int)(step / perEpoch); epoch < settings.Epochs; epoch++)
            {
                int skip = (int)(step - (long)epoch * perEpoch);
                int iteration = 0;
                foreach (var cpuBatch in dataWait.Timed(Prefetcher.Ahead(loader.Epoch(epoch), options.Prefetch)))
                {
                    using (cpuBatch)
                    {
                        if (iteration++ < skip) continue;
                        // Everything an iteration allocates dies with this scope; only the window's sums live on.
                        using var iterationScope = NewDisposeScope();
                        var failure = TrainStep(runner, parameters, optimizer, ToDevice(cpuBatch, device), generator, schedule.At(step), window, step);
                        if (failure is { } broken)
                        {
                            // Caught before the optimizer applied it: the model is still the finite one of this step.
                            if (window.Count > 0) Report(log, window, epoch, iteration, perEpoch, step, schedule.TotalIterations, schedule.At(step), Elapsed());
                            log.Losses(step + 1, new Dictionary<string, double>(broken.Losses) { ["lr"] = schedule.At(step) }, Elapsed());
                            string kept = Save(checkpoints, runner.Model, optimizer, generator, step, Elapsed());
                            log.Finish(validation);
                            throw new TrainingException($"{broken.Message} The model before this step is saved: {kept}.");
                        }
                    }
                    double lr = schedule.At(step);
                    step++;
                    if (step % options.LogEvery == 0 || iteration == perEpoch)
                        Report(log, window, epoch, iteration, perEpoch, step, schedule.TotalIterations, lr, Elapsed());
                    if (cancellation.IsCancellationRequested || step == options.MaxIterations)
                    {
                        if (window.Count > 0) Report(log, window, epoch, iteration, perEpoch, step, schedule.TotalIterations, lr, Elapsed());
                        Save(checkpoints, runner.Model, optimizer, generator, step, Elapsed());
                        if (dataWait.Describe(options.Prefetch) is string waitedAtStop) Message?.Invoke(waitedAtStop);
                        log.Finish(validation);
                        return new TrainingResult(run.Path, false, step, validation, Elapsed());
                    }
                }
                if (dataWait.Describe(options.Prefetch) is string waited) Message?.Invoke($"epoch={epoch + 1} {waited}");
                bool last = epoch + 1 == settings.Epochs;
                if ((epoch + 1) % options.CheckpointEvery == 0 || last) Save(checkpoints, runner.Model, optimizer, generator, step, Elapsed());
                if ((epoch + 1) % options.EvaluateEvery == 0 || last)
                {
                    validation = Validation.Run(runner, val, LoaderFor(recipe, training: false), device);
                    log.Evaluation(step, epoch + 1, validation, Elapsed());
                    DetectionExamples.Write(val, validation.Detections, DetectionExamples.FolderOf(run.Path, epoch + 1));
                    Message?.Invoke($"epoch={epoch + 1} step={step} {validation.Describe()}");
                }
            }
            if (validation is not null) CocoJson.WriteDetections(run.In("detections_val.json"), validation.Detections);
            log.Finish(validation);
            return new TrainingResult(run.Path, true, step, validation, Elapsed());
        }
        finally
        {
            window.Dispose();
        }
    }

    /// <summary>
    /// One optimisation step. Whether the loss and each gradient are finite is kept on the device with the losses and
    /// read with them; only gradient clipping (its norm) and <see cref="TrainingOptions.DetectAnomaly"/> read back every
    /// step, and a non-finite gradient seen there stops the run before the optimizer applies it.
    /// </summary>
    /// <returns>Null, or why the step was not applied and its losses.</returns>
    private (string Message, Dictionary<string, double> Losses)? TrainStep(IDetectorRunner runner, (string Name, Parameter Parameter)[] parameters, OptimizerHelper optimizer, DetectionBatch batch,
        Generator generator, double lr, LossWindow window, long step)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        var losses = runner.Losses(batch, generator);
        var total = losses.Values.Aggregate((a, b) => a + b);
        optimizer.zero_grad();
        total.backward();
        var finite = NonFiniteTraining.Flags(total, parameters.Select(p => p.Parameter));
        Dictionary<string, double> Read() => losses.Append(new("loss", total))
            .ToDictionary(l => l.Key, l => (double)l.Value.detach().cpu().item<float>());
        if (options.DetectAnomaly && !finite.all().item<bool>())
        {
            var values = Read();
            return (NonFinite(step, window.Names, finite) + " " + NonFiniteTraining.Rerun(() =>
            {
                optimizer.zero_grad();
                runner.Losses(batch, generator).Values.Aggregate((a, b) => a + b).backward();
            }), values);
        }
        if (options.ClipGradNorm is double maxNorm && !double.IsFinite(nn.utils.clip_grad_norm_(parameters.Select(p => p.Parameter), maxNorm)))
            return (NonFinite(step, window.Names, finite), Read());
        optimizer.step();
        window.Add(losses, total, finite);
        return null;
    }

    /// <summary>Which step went non-finite and where first, and what to do about it.</summary>
    private string NonFinite(long step, IReadOnlyList<string> names, Tensor finite) =>
        NonFiniteTraining.Describe(recipe.Name, step + 1, names, finite.cpu().data<bool>().ToArray(), settings.WarmupIters, options.DetectAnomaly);

    private void Report(RunLog log, LossWindow window, int epoch, int iteration, int perEpoch, long step, long totalSteps, double lr, TimeSpan elapsed)
    {
        long first = step - window.Count + 1;
        var (means, badStep, flags) = window.ReadAndReset();
        means["lr"] = lr;
        log.Losses(step, means, elapsed); // a diverged window too: the log shows where it went (pisa compare reports it)
        if (badStep is int offset)
        {
            log.Finish(null);
            throw new TrainingException(NonFiniteTraining.Describe(recipe.Name, first + offset, window.Names, flags!, settings.WarmupIters, options.DetectAnomaly)
                + " The checkpoints written before it are finite; resume from one with --resume, or retrain with --detect-anomaly.");
        }
        Progress?.Invoke(new TrainingProgress(epoch + 1, settings.Epochs, iteration, perEpoch, step, totalSteps, lr, means, elapsed));
    }

    private string Save(CheckpointWriter checkpoints, nn.Module model, OptimizerHelper optimizer, Generator generator, long step, TimeSpan elapsed)
    {
        string path = checkpoints.Save(model, optimizer, TrainingState.Capture(step, generator, elapsed));
        Message?.Invoke($"checkpoint={path}");
        return path;
    }

    /// <returns>The checkpoint's step and the run's wall time up to it.</returns>
    private static (long Step, TimeSpan Elapsed) Restore(RunFolder run, CheckpointWriter checkpoints, nn.Module model, OptimizerHelper optimizer, Generator generator)
    {
        string checkpoint = checkpoints.Latest ?? throw new TrainingException($"{run.Path}: no checkpoint to resume from in {checkpoints.Directory}");
        long step = CheckpointWriter.Load(checkpoint, model, optimizer);
        var state = CheckpointWriter.ReadState(checkpoint, step);
        state.Restore(generator);
        return (step, TimeSpan.FromSeconds(state.ElapsedSeconds));
    }

    /// <summary>The batch on <paramref name="device"/>: itself on the CPU, else a copy.</summary>
    internal static DetectionBatch ToDevice(DetectionBatch batch, Device device) => device.type == DeviceType.CPU ? batch : batch.To(device);

    /// <summary>How long the loop waited for each batch (the time its enumerator took to hand the next one over), per epoch.</summary>
    private sealed class DataWait
    {
        private readonly List<double> milliseconds = [];

        /// <summary><paramref name="batches"/>, timing each wait.</summary>
        public IEnumerable<T> Timed<T>(IEnumerable<T> batches)
        {
            using var e = batches.GetEnumerator();
            var clock = Stopwatch.StartNew();
            while (e.MoveNext())
            {
                milliseconds.Add(clock.Elapsed.TotalMilliseconds);
                yield return e.Current;
                clock.Restart();
            }
        }

        /// <summary>"data_wait_ms=min/median/max over N batches (prefetch P)" since the last call, or null when none waited.</summary>
        public string? Describe(int prefetch)
        {
            if (milliseconds.Count == 0) return null;
            var sorted = milliseconds.Order().ToArray();
            milliseconds.Clear();
            return FormattableString.Invariant($"data_wait_ms={sorted[0]:0.0}/{sorted[sorted.Length / 2]:0.0}/{sorted[^1]:0.0} (min/median/max over {sorted.Length} batches, prefetch {prefetch})");
        }
    }

    /// <summary>
    /// Loss sums kept on the device between readings, so the loop never waits for the host, with each step's finiteness
    /// flags (<see cref="NonFiniteTraining.Flags"/>) beside them.
    /// </summary>
    private sealed class LossWindow(string[] parameterNames, int capacity) : IDisposable
    {
        private string[] names = [];
        private Tensor? sums, flags;

        /// <summary>"loss", then the trainable parameters' names: the order of a flags row.</summary>
        public IReadOnlyList<string> Names { get; } = ["loss", .. parameterNames];

        public int Count { get; private set; }

        public void Add(IReadOnlyDictionary<string, Tensor> losses, Tensor total, Tensor finite)
        {
            using var scope = NewDisposeScope();
            if (sums is null)
            {
                names = [.. losses.Keys, "loss"];
                sums = zeros(names.Length, dtype: total.dtype, device: total.device).DetachFromDisposeScope();
            }
            flags ??= ones(Math.Max(1, capacity), Names.Count, dtype: ScalarType.Bool, device: total.device).DetachFromDisposeScope();
            sums.add_(stack([.. names[..^1].Select(n => losses[n].detach()), total.detach()]));
            flags[Math.Min(Count, (int)flags.shape[0] - 1)].bitwise_and_(finite);
            Count++;
        }

        /// <summary>The window's mean of each loss, the first step (offset in the window) that was not finite, and that step's flags; one host transfer each.</summary>
        public (Dictionary<string, double> Means, int? BadStep, bool[]? Flags) ReadAndReset()
        {
            if (sums is null || flags is null || Count == 0) return ([], null, null);
            using var scope = NewDisposeScope();
            float[] values = (sums.device_type == DeviceType.CPU ? sums : sums.cpu()).data<float>().ToArray();
            var means = names.Select((n, i) => (n, v: (double)values[i] / Count)).ToDictionary(p => p.n, p => p.v);
            var rows = flags[..Math.Min(Count, (int)flags.shape[0])];
            bool[] stepFinite = rows.all(1).cpu().data<bool>().ToArray();
            int bad = Array.IndexOf(stepFinite, false);
            bool[]? badFlags = bad >= 0 ? rows[bad].cpu().data<bool>().ToArray() : null;
            sums.zero_();
            flags.fill_(true);
            Count = 0;
            return (means, bad >= 0 ? bad : null, badFlags);
        }

        public void Dispose()
        {
            sums?.Dispose();
            flags?.Dispose();
        }
    }
}
