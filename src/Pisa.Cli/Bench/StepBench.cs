using Pisa.Compilation;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Cli.Bench;

/// <summary>
/// <c>pisa bench step R.yaml…</c>: training steps of a recipe on builtin:shapes (the trainer's model, optimizer and
/// loader), each broken down by <see cref="Phase"/> through <see cref="StepPhases"/>; medians over the timed steps.
/// </summary>
public static class StepBench
{
    /// <summary>Median ms per phase (step order), the median whole step, and the RoI counts of the last step.</summary>
    public sealed record Result(string Recipe, int Steps, IReadOnlyDictionary<string, double> PhaseMs, double StepMs, IReadOnlyDictionary<string, long> Counts);

    public static Result Run(Recipe recipe, DetectionDataset train, int steps = 8, int warmUp = 2)
    {
        var pipeline = RuntimePipelines.Default.Compile(recipe).Select(recipe);
        var settings = recipe.Train;
        manual_seed(settings.Seed);
        int classes = train.Categories.Count;
        using var runner = DetectorRunner.Create(recipe, pipeline, Trainer.DefaultModel(classes));
        runner.Model.train();
        using var optimizer = optim.SGD(runner.Model.parameters(), settings.Lr, settings.Momentum, weight_decay: settings.WeightDecay);
        using var generator = new Generator((ulong)settings.Seed);
        var loader = new DetectionLoader(train, Trainer.LoaderFor(recipe, training: true));
        using var batches = loader.Epoch(0).GetEnumerator();

        var perPhase = Phase.All.ToDictionary(p => p, _ => new List<double>());
        var totals = new List<double>();
        IReadOnlyDictionary<string, long> counts = new Dictionary<string, long>();
        for (int i = 0; i < warmUp + steps; i++)
        {
            var phases = new StepPhases();
            StepPhases.Current = phases;
            try
            {
                if (!batches.MoveNext()) throw new InvalidOperationException("the bench ran out of batches in one epoch");
                using var batch = batches.Current;
                StepPhases.Mark(Phase.Data);
                using var scope = NewDisposeScope();
                var losses = runner.Losses(batch, generator);
                var total = losses.Values.Aggregate((a, b) => a + b);
                optimizer.zero_grad();
                StepPhases.Mark(Phase.Losses);
                total.backward();
                StepPhases.Mark(Phase.Backward);
                optimizer.step();
                StepPhases.Mark(Phase.Optimizer);
            }
            finally
            {
                StepPhases.Current = null;
            }
            if (i < warmUp) continue;
            foreach (var phase in Phase.All) perPhase[phase].Add(phases.Milliseconds.GetValueOrDefault(phase));
            totals.Add(phases.Milliseconds.Values.Sum());
            counts = phases.Counts;
        }
        var medians = Phase.All.Where(p => perPhase[p].Any(ms => ms > 0)).ToDictionary(p => p, p => GeneratorBench.Median(perPhase[p]));
        return new Result(recipe.Variant ?? recipe.Name, steps, medians, GeneratorBench.Median(totals), counts);
    }
}
