using Pisa.Recipes;
using Pisa.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

public class ResNetBackboneTests
{
    [PythonTorchFact]
    public void A_torchvision_resnet18_state_dict_gives_pytorchs_c2_to_c5()
    {
        using var folder = new TempDirectory();
        PythonTorch.Run("resnet_reference.py", "18", folder.Path);
        using var _ = NewDisposeScope();
        var reference = PretrainedWeights.Read(folder.In("reference.pth"));
        using var backbone = new ResNetBackbone(18, frozenStages: -1);
        // A different seed than Python's: only the file can make the outputs agree.
        manual_seed(123);
        string loaded = PretrainedWeights.LoadBackbone(backbone, folder.In("weights.pth"));
        backbone.eval();

        Tensor[] c;
        using (no_grad()) c = backbone.forward(reference["input"]);

        Assert.Contains("ResNet-18", loaded);
        string[] names = ["c2", "c3", "c4", "c5"];
        long[][] shapes = [[2, 64, 24, 32], [2, 128, 12, 16], [2, 256, 6, 8], [2, 512, 3, 4]];
        for (int l = 0; l < 4; l++)
        {
            Assert.Equal(shapes[l], c[l].shape);
            Assert.Equal(shapes[l], reference[names[l]].shape);
            double worst = (c[l] - reference[names[l]]).abs().max().item<float>();
            Assert.True(worst <= 1e-4, $"{names[l]}: max |ours - PyTorch| = {worst:g3} > 1e-4");
        }
    }

    [Fact]
    public void Weights_of_another_depth_are_refused_with_every_mismatch_in_one_error_naming_the_file()
    {
        using var folder = new TempDirectory();
        using (var resnet18 = new ResNetBackbone(18)) resnet18.save_py(folder.In("resnet18.pth"));
        using var resnet34 = new ResNetBackbone(34);
        var before = resnet34.state_dict()["layer1.0.conv1.weight"].clone();

        var error = Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.LoadBackbone(resnet34, folder.In("resnet18.pth")));

        Assert.StartsWith(folder.In("resnet18.pth") + ": does not fit a torchvision ResNet-34", error.Message);
        Assert.Contains("missing", error.Message);
        Assert.Contains("layer1.2.conv1.weight", error.Message); // ResNet-34's layer1 has 3 blocks, ResNet-18's 2
        Assert.True(before.allclose(resnet34.state_dict()["layer1.0.conv1.weight"], rtol: 0, atol: 0)); // nothing copied
    }

    [Fact]
    public void Shape_mismatches_and_unexpected_keys_are_listed_and_fc_is_ignored()
    {
        using var folder = new TempDirectory();
        using var resnet50 = new ResNetBackbone(50);
        var tensors = new ResNetBackbone(18).state_dict().ToDictionary(p => p.Key, p => p.Value);
        tensors["fc.weight"] = zeros(1000, 512);
        tensors["head.extra"] = zeros(3);
        string path = folder.In("mixed.pth");
        using (var stream = File.Create(path)) PyTorchPickler.PickleStateDict(stream, tensors);

        var error = Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.LoadBackbone(resnet50, path));

        Assert.Contains("unexpected (1): head.extra", error.Message);
        Assert.Contains("shape mismatch", error.Message);
        Assert.Contains("layer1.0.conv1.weight: file [64, 64, 3, 3], model [64, 64, 1, 1]", error.Message);
        Assert.DoesNotContain("fc.weight", error.Message);
    }

    [Fact]
    public void A_safetensors_file_loads_the_same_weights()
    {
        using var folder = new TempDirectory();
        using var _ = NewDisposeScope();
        manual_seed(1);
        using var source = new ResNetBackbone(18, frozenStages: -1);
        source.save_safetensors(folder.In("resnet18.safetensors"));
        manual_seed(2);
        using var target = new ResNetBackbone(18, frozenStages: -1);
        var images = rand(1, 3, 64, 64);
        source.eval();
        target.eval();
        using var noGrad = no_grad();
        Assert.False(source.forward(images)[3].allclose(target.forward(images)[3], rtol: 0, atol: 0));

        PretrainedWeights.LoadBackbone(target, folder.In("resnet18.safetensors"));

        Assert.True(source.forward(images)[3].allclose(target.forward(images)[3], rtol: 0, atol: 0));
    }

    [Fact]
    public void Unreadable_or_absent_files_are_named()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.In("notes.pth"), "not a pickle");
        using var backbone = new ResNetBackbone(18);
        Assert.StartsWith(folder.In("absent.pth") + ": no such file",
            Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.LoadBackbone(backbone, folder.In("absent.pth"))).Message);
        Assert.StartsWith(folder.In("notes.pth") + ": not a PyTorch state_dict",
            Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.LoadBackbone(backbone, folder.In("notes.pth"))).Message);
    }

    [Fact]
    public void Frozen_stages_lose_their_gradients_and_norm_eval_keeps_batchnorm_in_eval_mode_while_training()
    {
        using var backbone = new ResNetBackbone(18, frozenStages: 1, normEval: true);
        backbone.train();
        var trainable = backbone.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();

        Assert.DoesNotContain("conv1.weight", trainable);
        Assert.DoesNotContain("layer1.0.conv1.weight", trainable);
        Assert.Contains("layer2.0.conv1.weight", trainable);
        Assert.DoesNotContain("layer2.0.bn1.weight", trainable); // norm_eval freezes the affine parameters too
        Assert.All(backbone.modules().OfType<BatchNorm2d>(), bn => Assert.False(bn.training));
        Assert.True(backbone.modules().OfType<Conv2d>().Last().training);

        using var free = new ResNetBackbone(18, frozenStages: -1, normEval: false);
        free.train();
        Assert.All(free.parameters(), p => Assert.True(p.requires_grad));
        Assert.All(free.modules().OfType<BatchNorm2d>(), bn => Assert.True(bn.training));
    }

    [Fact]
    public void The_two_stage_pyramid_is_p2_to_p6_and_retinanets_p3_to_p7()
    {
        using var _ = NewDisposeScope();
        using var twoStage = new ResNetFpn(new ResNetBackbone(18), 32, twoStage: true);
        using var singleStage = new ResNetFpn(new ResNetBackbone(18), 32, twoStage: false);
        var images = zeros(1, 3, 96, 160);

        Assert.Equal([4, 8, 16, 32, 64], twoStage.Strides);
        Assert.Equal([8, 16, 32, 64, 128], singleStage.Strides);
        Assert.Equal([[1L, 32, 24, 40], [1L, 32, 12, 20], [1L, 32, 6, 10], [1L, 32, 3, 5], [1L, 32, 2, 3]],
            twoStage.forward(images).Select(l => l.shape));
        Assert.Equal([[1L, 32, 12, 20], [1L, 32, 6, 10], [1L, 32, 3, 5], [1L, 32, 2, 3], [1L, 32, 1, 2]],
            singleStage.forward(images).Select(l => l.shape));
    }

    [Fact]
    public void Anchors_follow_mmdetection_scales()
    {
        using var _ = NewDisposeScope();
        var twoStage = AnchorGenerator.MmdetTwoStage([4, 8, 16, 32, 64]);
        var retina = AnchorGenerator.MmdetRetinaNet([8, 16, 32, 64, 128]);

        Assert.Equal(3, twoStage.AnchorsPerLocation);
        Assert.Equal([32.0, 64, 128, 256, 512], twoStage.SizesPerLevel.Select(s => Assert.Single(s)));
        Assert.Equal(9, retina.AnchorsPerLocation);
        Assert.Equal([32, 40.3175, 50.7968], retina.SizesPerLevel[0].Select(s => Math.Round(s, 4)));
        Assert.Equal([512, 645.0796, 812.7493], retina.SizesPerLevel[4].Select(s => Math.Round(s, 4)));
        // The square anchor (ratio 1, the middle ratio) of the first cell of P2: 32 px centred on (2, 2).
        var first = twoStage.Generate([(1, 1), (1, 1), (1, 1), (1, 1), (1, 1)])[1];
        Assert.Equal([-14f, -14f, 18f, 18f], first.data<float>().ToArray());
    }

    [Fact]
    public void The_two_stage_resnet_detector_pools_rois_from_p2_to_p5_by_mmdetections_rule()
    {
        using var _ = NewDisposeScope();
        using var detector = new TwoStageDetector(DetectorOptions.MmdetResNet(3, BackboneKind.Resnet18) with { FeatureChannels = 32, RoiChannels = 32, BoxHeadHiddenDim = 16 });
        // floor(log2(sqrt(w·h) / 56 + 1e-6)) clamped to [0, 3]: 111 px → 0, 112 → 1, 224 → 2, 448 → 3, 1000 → 3.
        var rois = tensor(new float[] { 0, 0, 111, 111, 0, 0, 112, 112, 0, 0, 224, 224, 0, 0, 448, 448, 0, 0, 1000, 1000 }).reshape(1, 5, 4);

        Assert.Equal([0L, 1, 2, 3, 3], detector.RoIExtractor.LevelOf(rois).data<long>().ToArray());

        var levels = detector.Features(zeros(1, 3, 64, 96));
        Assert.Equal(5, levels.Length);
        var (logits, deltas) = detector.BoxHead(levels, rois);
        Assert.Equal([1L, 5, 4], logits.shape);
        Assert.Equal([1L, 5, 12], deltas.shape);
    }
}
