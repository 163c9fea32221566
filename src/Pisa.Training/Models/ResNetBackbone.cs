using Pisa.Recipes;
using Pisa.Training.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// torchvision's ResNet (built by TorchSharp's TorchVision) as a detection backbone returning C2–C5, with mmdetection's
/// <c>frozen_stages</c> and <c>norm_eval</c>. Its modules keep torchvision's names (<c>conv1</c>, <c>bn1</c>,
/// <c>layer1</c>…<c>layer4</c>), so a torchvision <c>state_dict</c> loads onto it as it is (without <c>fc.*</c>).
/// Inputs are RGB in [0, 1]; the forward normalises them with the ImageNet mean and standard deviation that
/// torchvision's weights (and mmdetection's <c>img_norm_cfg</c>) expect.
/// </summary>
public sealed class ResNetBackbone : nn.Module<Tensor, Tensor[]>
{
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f], Std = [0.229f, 0.224f, 0.225f];

    /// <summary>The ImageNet mean colour the forward subtracts: padding of this colour is 0 after normalisation, as
    /// mmdetection's pad after its normalise.</summary>
    public static IReadOnlyList<float> ImageNetMean => Mean;

    private readonly nn.Module<Tensor, Tensor> conv1, bn1, relu, maxpool;
    private readonly nn.Module<Tensor, Tensor> layer1, layer2, layer3, layer4;

    /// <param name="depth">18, 34, 50 or 101.</param>
    /// <param name="frozenStages">-1: nothing frozen; 0: the stem (conv1, bn1); k ≥ 1: the stem and layer1…layerk.</param>
    /// <param name="normEval">Every BatchNorm stays in eval mode (running statistics used, not updated) with its weight and bias frozen.</param>
    public ResNetBackbone(int depth, int frozenStages = 1, bool normEval = true) : base(nameof(ResNetBackbone))
    {
        TorchPlatform.Configure();
        if (frozenStages is < -1 or > 4) throw new ArgumentOutOfRangeException(nameof(frozenStages), frozenStages, "frozen stages are -1 (none) to 4");
        // Not disposed: its modules live on in this one (its unused head, avgpool and fc, go with the garbage collector).
        var torchvisionResNet = depth switch
        {
            18 => torchvision.models.resnet18(),
            34 => torchvision.models.resnet34(),
            50 => torchvision.models.resnet50(),
            101 => torchvision.models.resnet101(),
            _ => throw new ArgumentOutOfRangeException(nameof(depth), depth, "ResNet depths are 18, 34, 50 and 101"),
        };
        var parts = torchvisionResNet.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        (conv1, bn1, relu, maxpool) = (parts["conv1"], parts["bn1"], parts["relu"], parts["maxpool"]);
        (layer1, layer2, layer3, layer4) = (parts["layer1"], parts["layer2"], parts["layer3"], parts["layer4"]);
        int expansion = depth >= 50 ? 4 : 1;
        Channels = [64 * expansion, 128 * expansion, 256 * expansion, 512 * expansion];
        (Depth, FrozenStages, NormEval) = (depth, frozenStages, normEval);
        RegisterComponents();
        foreach (var parameter in FrozenModules().SelectMany(m => m.parameters())) parameter.requires_grad = false;
        if (normEval)
            foreach (var norm in modules().OfType<BatchNorm2d>())
                foreach (var parameter in norm.parameters()) parameter.requires_grad = false;
        train(true);
    }

    public int Depth { get; }
    public int FrozenStages { get; }
    public bool NormEval { get; }

    /// <summary>Channels of C2, C3, C4 and C5: 64–512 (ResNet-18/34) or 256–2048 (ResNet-50/101).</summary>
    public int[] Channels { get; }

    public static int[] Strides => [4, 8, 16, 32];

    /// <summary>The ResNet depth a recipe's backbone names, or null for <c>small</c>.</summary>
    public static int? DepthOf(BackboneKind kind) => kind switch
    {
        BackboneKind.Resnet18 => 18,
        BackboneKind.Resnet34 => 34,
        BackboneKind.Resnet50 => 50,
        BackboneKind.Resnet101 => 101,
        _ => null,
    };

    /// <summary>
    /// Training mode for everything but the frozen stages and, with <see cref="NormEval"/>, the BatchNorm layers, which
    /// stay in eval mode (mmdetection's <c>ResNet.train</c>).
    /// </summary>
    public override void train(bool on = true)
    {
        base.train(on);
        if (!on) return;
        foreach (var module in FrozenModules()) module.eval();
        if (NormEval)
            foreach (var norm in modules().OfType<BatchNorm2d>()) norm.eval();
    }

    /// <summary><c>[B, 3, H, W]</c> RGB in [0, 1] → <c>[C2 [B, c, H/4, W/4], C3 [.., H/8, ..], C4 [.., H/16, ..], C5 [.., H/32, ..]]</c> (sizes rounded up).</summary>
    public override Tensor[] forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        // Constants made per call rather than kept as buffers, so the state_dict stays exactly torchvision's.
        var mean = tensor(Mean, device: images.device).reshape(1, 3, 1, 1);
        var std = tensor(Std, device: images.device).reshape(1, 3, 1, 1);
        var x = (images - mean) / std;
        var c2 = layer1.call(maxpool.call(relu.call(bn1.call(conv1.call(x)))));
        var c3 = layer2.call(c2);
        var c4 = layer3.call(c3);
        var c5 = layer4.call(c4);
        return [c2.MoveToOuterDisposeScope(), c3.MoveToOuterDisposeScope(), c4.MoveToOuterDisposeScope(), c5.MoveToOuterDisposeScope()];
    }

    /// <summary>The modules <see cref="FrozenStages"/> freezes, stem first.</summary>
    private IEnumerable<nn.Module> FrozenModules()
    {
        if (FrozenStages < 0) yield break;
        yield return conv1;
        yield return bn1;
        nn.Module[] stages = [layer1, layer2, layer3, layer4];
        for (int i = 0; i < FrozenStages; i++) yield return stages[i];
    }
}
