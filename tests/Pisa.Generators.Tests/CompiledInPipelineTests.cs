using Pisa.Kernels;
using Pisa.Kernels.Pipeline;
using Pisa.Kernels.Reference;
using Pisa.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Generators.Tests;

/// <summary>
/// The shipped recipes are compiled into this assembly by the generator running as an analyzer (as in a consumer's
/// build). Their pipelines compute exactly what the same kernels compute when called by hand.
/// </summary>
public class CompiledInPipelineTests
{
    [Fact]
    public void The_catalog_lists_every_shipped_recipe_and_variant_point()
    {
        var names = RecipeCatalog.All.Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            ["PisaSweep_IsrK1_CarlBias0", "PisaSweep_IsrK1_CarlBias0p2", "PisaSweep_IsrK2_CarlBias0", "PisaSweep_IsrK2_CarlBias0p2",
             "faster-rcnn", "libra-faster-rcnn", "ohem-faster-rcnn", "pisa-faster-rcnn", "pisa-retinanet", "retinanet"],
            names);
        Assert.All(RecipeCatalog.All, p => Assert.Equal(p.TwoStage, p.Create() is ISamplePipeline));
    }

    [Fact]
    public void The_recipe_and_the_kernels_name_the_compat_modes_alike_in_one_order()
    {
        // Generated code maps a recipe's CompatMode to the kernels' Compat; they once listed the same two modes reversed.
        Assert.Equal(Enum.GetNames<Pisa.Recipes.CompatMode>(), Enum.GetNames<Compat>());
        Assert.Equal(Enum.GetValues<Pisa.Recipes.CompatMode>().Select(m => (int)m), Enum.GetValues<Compat>().Select(m => (int)m));
    }

    [Fact]
    public void The_generated_pisa_pipeline_computes_what_the_hand_written_composition_computes()
    {
        var batch = RandomBatch.TwoStage(seed: 3);
        var head = new LinearProbe(numClasses: batch.NumClasses, seed: 4);

        var generated = new PisaFasterRcnn();
        var byHand = new ExamplePisaTwoStagePipeline();
        using var scope = NewDisposeScope();
        var a = generated.Sample(batch, head, new Generator(11));
        var b = byHand.Sample(batch, head, new Generator(11));
        AssertEqual(a.Rois, b.Rois);
        AssertEqual(a.Labels, b.Labels);
        AssertEqual(a.LabelWeights, b.LabelWeights);
        AssertEqual(a.BboxTargets, b.BboxTargets);

        var (cls, pred) = head.Probe(a.Rois);
        var lossA = generated.Loss(a, cls, pred);
        var lossB = byHand.Loss(b, cls, pred);
        Assert.Equal(lossB.Keys.Order(), lossA.Keys.Order());
        foreach (var key in lossA.Keys) AssertEqual(lossA[key], lossB[key]);
        Assert.Contains("loss_carl", lossA.Keys);
    }

    [Fact]
    public void Every_compiled_in_pipeline_runs_a_batch_to_finite_losses()
    {
        foreach (var info in RecipeCatalog.All)
        {
            using var scope = NewDisposeScope();
            IReadOnlyDictionary<string, Tensor> losses;
            if (info.Create() is ISamplePipeline twoStage)
            {
                var batch = RandomBatch.TwoStage(seed: 5);
                var head = new LinearProbe(batch.NumClasses, seed: 6);
                var sample = twoStage.Sample(batch, head, new Generator(1));
                var (cls, pred) = head.Probe(sample.Rois);
                losses = twoStage.Loss(sample, cls, pred);
            }
            else
            {
                var single = (ISingleStagePipeline)info.Create();
                var (input, cls, pred) = RandomBatch.SingleStage(seed: 7);
                losses = single.Loss(input, cls, pred);
            }
            Assert.NotEmpty(losses);
            foreach (var (name, loss) in losses)
                Assert.True(float.IsFinite(loss.ToSingle()), $"{info.Name}: {name} = {loss.ToSingle()}");
        }
    }

    private static void AssertEqual(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.to_type(ScalarType.Float64).eq(actual.to_type(ScalarType.Float64)).all().item<bool>(), "tensors differ");
    }
}

/// <summary>A deterministic stand-in for a box head: a fixed random linear map of the RoI coordinates.</summary>
internal sealed class LinearProbe(int numClasses, int seed) : IDetectorHeadProbe
{
    private readonly Tensor _cls = randn(4, numClasses + 1, generator: new Generator((ulong)seed)) * 0.05;
    private readonly Tensor _box = randn(4, 4 * numClasses, generator: new Generator((ulong)seed + 1)) * 0.001;

    public (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois)
    {
        var boxes = rois[TensorIndex.Colon, TensorIndex.Slice(1)] / 100.0;
        return (boxes.matmul(_cls), boxes.matmul(_box));
    }
}

/// <summary>Small random batches in the shapes of the pipeline contract.</summary>
internal static class RandomBatch
{
    public static TwoStageSampleInput TwoStage(int seed, int images = 2, int proposals = 300, int gts = 6, int classes = 5)
    {
        var g = new Generator((ulong)seed);
        var gt = Boxes(images, gts, g);
        // Proposals jittered around the gts (so there are positives) plus random ones.
        var around = gt.repeat(1, proposals / gts / 2, 1) + randn(images, proposals / gts / 2 * gts, 4, generator: g) * 6;
        var proposalBoxes = cat([around, Boxes(images, proposals - around.shape[1], g)], 1);
        proposalBoxes = stack([proposalBoxes[.., .., 0], proposalBoxes[.., .., 1], maximum(proposalBoxes[.., .., 2], proposalBoxes[.., .., 0] + 1), maximum(proposalBoxes[.., .., 3], proposalBoxes[.., .., 1] + 1)], -1);
        var labels = randint(classes, [images, gts], generator: g, dtype: ScalarType.Int64);
        var gtMask = ones(images, gts, ScalarType.Bool);
        gtMask[1, gts - 1] = false; // a padded gt slot
        return new TwoStageSampleInput(proposalBoxes, ones(images, proposalBoxes.shape[1], ScalarType.Bool), gt, labels, gtMask,
            tensor(new long[] { 128, 128, 128, 128 }).view(2, 2), classes);
    }

    public static (SingleStageInput Input, Tensor ClsScore, Tensor BboxPred) SingleStage(int seed, int images = 2, int anchors = 400, int gts = 5, int classes = 5)
    {
        var g = new Generator((ulong)seed);
        var gt = Boxes(images, gts, g);
        var anchorBoxes = Boxes(1, anchors, g).expand(images, anchors, 4).contiguous();
        var input = new SingleStageInput(anchorBoxes, ones(images, anchors, ScalarType.Bool), gt,
            randint(classes, [images, gts], generator: g, dtype: ScalarType.Int64), ones(images, gts, ScalarType.Bool), classes);
        return (input, randn(images, anchors, classes, generator: g), randn(images, anchors, 4, generator: g) * 0.1);
    }

    private static Tensor Boxes(long images, long count, Generator g)
    {
        var xy = rand(images, count, 2, generator: g) * 100;
        var wh = rand(images, count, 2, generator: g) * 40 + 4;
        return cat([xy, xy + wh], -1);
    }
}
