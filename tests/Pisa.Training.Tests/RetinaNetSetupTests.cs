using Pisa.Training.Data.Shapes;
using Pisa.Training.Models;
using Pisa.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

/// <summary>
/// What makes the small RetinaNet learn on builtin:shapes (objects of 3-95 px in 128 px scenes, a fifth under 16 px):
/// anchors close to every object size (the focal-loss prior is pinned in <see cref="ModelShapeTests"/>).
/// </summary>
[Collection(TrainingCollection.Name)]
public class RetinaNetSetupTests
{
    /// <summary>Each ground truth box's best IoU with any anchor, computed here from corner coordinates.</summary>
    private static float[] BestAnchorIoU(Tensor anchors, IEnumerable<float[]> boxes)
    {
        using var scope = NewDisposeScope();
        var gt = tensor(boxes.SelectMany(b => b).ToArray()).reshape(-1, 4).unsqueeze(1); // [G, 1, 4]
        var a = anchors.unsqueeze(0);                                                      // [1, N, 4]
        var w = (minimum(gt[.., .., 2], a[.., .., 2]) - maximum(gt[.., .., 0], a[.., .., 0])).clamp_min(0);
        var h = (minimum(gt[.., .., 3], a[.., .., 3]) - maximum(gt[.., .., 1], a[.., .., 1])).clamp_min(0);
        var inter = w * h;
        var areaG = (gt[.., .., 2] - gt[.., .., 0]) * (gt[.., .., 3] - gt[.., .., 1]);
        var areaA = (a[.., .., 2] - a[.., .., 0]) * (a[.., .., 3] - a[.., .., 1]);
        return (inter / (areaG + areaA - inter)).max(1).values.data<float>().ToArray();
    }

    private static List<float[]> ValBoxes(Func<float, bool> sizeFilter) =>
        ShapesDataset.Load(new ShapesOptions(), ShapesSplit.Val).Entries
            .SelectMany(e => e.Boxes).Select(b => new[] { b.X1, b.Y1, b.X2, b.Y2 })
            .Where(b => sizeFilter(MathF.Sqrt((b[2] - b[0]) * (b[3] - b[1])))).ToList();

    [Fact]
    public void The_default_single_stage_anchors_reach_IoU_half_on_nearly_every_shapes_object()
    {
        var model = new SingleStageDetector(Trainer.DefaultModel(6));
        using var anchors = model.Anchors.ForImage(128, 128);

        var all = BestAnchorIoU(anchors, ValBoxes(_ => true));
        double covered = all.Count(iou => iou >= 0.5) / (double)all.Length;
        Assert.True(covered >= 0.95, $"{covered:P1} of the val objects have an anchor with IoU >= 0.5");
        // From 12 px only a few thin objects (aspect beyond 1:3) miss: 4 of the 889 val objects.
        var fromTwelve = BestAnchorIoU(anchors, ValBoxes(side => side >= 12));
        Assert.True(fromTwelve.Count(iou => iou < 0.5) <= fromTwelve.Length / 100, $"{fromTwelve.Count(iou => iou < 0.5)} objects of 12 px or more lack an anchor with IoU >= 0.5");
    }

    [Fact]
    public void The_previous_stride_8_anchors_miss_many_small_objects()
    {
        // The same measurement fails on the P3-P4 anchors (10, 20 at stride 8; 40, 80 at stride 16) RetinaNet used before.
        using var anchors = AnchorGenerator.ForSmallImages([8, 16]).ForImage(128, 128);
        var small = BestAnchorIoU(anchors, ValBoxes(side => side < 16));
        Assert.True(small.Count(iou => iou >= 0.5) < small.Length * 0.6);
    }

    [Fact]
    public void The_small_detectors_retina_towers_start_from_he_init_and_a_resnets_from_mmdetections()
    {
        // He's normal for a 3×3 conv over C channels has std sqrt(2 / 9C): 0.059 at the default 64 channels; mmdetection's is 0.01.
        static double TowerStd(SingleStageDetector model) =>
            model.named_parameters().Where(p => p.name.Contains("Tower") && p.name.EndsWith("weight")).Select(p => p.parameter.std().item<float>()).Average();
        static double ClassifierStd(SingleStageDetector model) =>
            model.named_parameters().Single(p => p.name.EndsWith("classifier.weight")).parameter.std().item<float>();
        torch.manual_seed(0);
        var small = new SingleStageDetector(Trainer.DefaultModel(6));
        Assert.InRange(TowerStd(small), 0.055, 0.063);
        Assert.InRange(ClassifierStd(small), 0.009, 0.011);
        Assert.InRange(TowerStd(new SingleStageDetector(Trainer.DefaultModel(6) with { RetinaHeTowers = false })), 0.009, 0.011);
        Assert.InRange(TowerStd(new SingleStageDetector(DetectorOptions.MmdetResNet(6, Pisa.Recipes.BackboneKind.Resnet18))), 0.009, 0.011);
    }

    [Fact]
    public void Tower_group_norm_applies_to_the_small_backbones_retina_head_only()
    {
        static int GroupNorms(SingleStageDetector model) => model.named_modules().Count(m => m.module is TorchSharp.Modules.GroupNorm);
        Assert.Equal(0, GroupNorms(new SingleStageDetector(Trainer.DefaultModel(6))));
        Assert.Equal(4, GroupNorms(new SingleStageDetector(Trainer.DefaultModel(6) with { RetinaTowerGroups = 16 })));  // two convs per tower, two towers
        Assert.Equal(0, GroupNorms(new SingleStageDetector(DetectorOptions.MmdetResNet(6, Pisa.Recipes.BackboneKind.Resnet18) with { RetinaTowerGroups = 16 })));
    }
}
