using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// A ResNet with mmdetection's FPN, the features a real detector reads. Two-stage (<c>faster_rcnn_r50_fpn</c>): the
/// neck reads C2–C5 and returns P2–P6 (strides 4–64, P6 by max-pooling P5). Single-stage (<c>retinanet_r50_fpn</c>,
/// <c>start_level=1</c>): it reads C3–C5 and returns P3–P7 (strides 8–128, P6 and P7 by stride-2 convs from C5).
/// </summary>
public sealed class ResNetFpn : nn.Module<Tensor, Tensor[]>
{
    private readonly ResNetBackbone backbone;
    private readonly Fpn neck;
    private readonly int firstInput;

    public ResNetFpn(ResNetBackbone backbone, int outChannels, bool twoStage) : base(nameof(ResNetFpn))
    {
        this.backbone = backbone;
        firstInput = twoStage ? 0 : 1;
        neck = new Fpn(backbone.Channels[firstInput..], outChannels, twoStage ? 1 : 2, twoStage ? FpnExtraLevels.MaxPool : FpnExtraLevels.ConvOnInput);
        Strides = twoStage ? [4, 8, 16, 32, 64] : [8, 16, 32, 64, 128];
        OutChannels = outChannels;
        RegisterComponents();
    }

    public ResNetBackbone Backbone => backbone;

    public int OutChannels { get; }

    /// <summary>The stride of each returned level, finest first.</summary>
    public int[] Strides { get; }

    /// <summary><c>[B, 3, H, W]</c> → one <c>[B, OutChannels, ⌈H/s⌉, ⌈W/s⌉]</c> per stride s of <see cref="Strides"/>.</summary>
    public override Tensor[] forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var levels = neck.forward(backbone.forward(images)[firstInput..]);
        foreach (var level in levels) level.MoveToOuterDisposeScope();
        return levels;
    }
}
