using Pisa.Compilation;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;
using Pisa.Training.Engine;
using Pisa.Training.Models;

namespace Pisa.Training.Tests;

/// <summary>Shipped recipes shrunk to test size: 64 px shapes, a few images, a tiny detector, few RoIs.</summary>
public static class TrainingFixtures
{
    public static readonly ShapesOptions TinyShapes = new() { ImageSize = 64, TrainCount = 8, ValCount = 4, MaxObjects = 4, MaxObjectSize = 40 };

    public static readonly DetectorOptions TinyModel = new(6, BackboneWidth: 8, FeatureChannels: 16, RoiChannels: 8, BoxHeadHiddenDim: 32, RetinaStackedConvs: 1);

    private static readonly Lazy<(DetectionDataset Train, DetectionDataset Val)> Data = new(() =>
        (ShapesDataset.Load(TinyShapes, ShapesSplit.Train), ShapesDataset.Load(TinyShapes, ShapesSplit.Val)));

    public static DetectionDataset Train => Data.Value.Train;
    public static DetectionDataset Val => Data.Value.Val;

    /// <summary>A shipped recipe with the test-size run settings (plus <paramref name="overrides"/>), and its compiled pipeline.</summary>
    public static (Recipe Recipe, PipelineInfo Pipeline) Recipe(string name, params string[] overrides)
    {
        string path = RepoPaths.InRoot("recipes", name + ".yaml");
        var probe = new RecipeLoader().LoadFile(path);
        Assert.False(probe.HasErrors, string.Join("\n", probe.Diagnostics));
        string[] small = ["train.image_size=64", "train.batch=2", "train.epochs=2", "train.warmup_iters=2", "train.lr=0.005"];
        if (probe.Recipe!.Detector == DetectorKind.TwoStage) small = [.. small, "sample.num=32", "rpn.train_proposals=48", "rpn.test_proposals=48"];
        var loaded = new RecipeLoader().LoadFile(path, [.. small, .. overrides]);
        Assert.False(loaded.HasErrors, string.Join("\n", loaded.Diagnostics));
        var recipe = loaded.Recipe!;
        return (recipe, RuntimePipelines.Default.Compile(recipe).Select(recipe));
    }

    public static TrainingOptions Options(long? maxIterations = null, int logEvery = 1) =>
        new(Device: "cpu", MaxIterations: maxIterations, LogEvery: logEvery, Model: TinyModel);

    public static TrainingData DataDescription => new(ShapesOptions.SourceName, false, TinyShapes.TrainCount, TinyShapes.ValCount);
}

/// <summary>
/// Tests that train: run alone, because model initialisation draws from libtorch's one global generator
/// (<c>torch.manual_seed</c>), and a test running beside them could draw from it between the seed and the weights.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "training (global torch seed)";
}
