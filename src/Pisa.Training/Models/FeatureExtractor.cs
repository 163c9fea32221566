using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// Backbone plus optional FPN: what the heads read. With the FPN, two pyramid levels of <see cref="OutChannels"/>
/// channels starting at <c>finestStride</c>: P2 and P3 (strides 4, 8) or P3 and P4 (strides 8, 16); without it, C4
/// alone (stride 16) projected by a 1×1 conv to that width.
/// </summary>
public sealed class FeatureExtractor : nn.Module<Tensor, Tensor[]>
{
    private readonly SmallBackbone backbone;
    private readonly SmallFpn? fpn;
    private readonly Conv2d? projection;
    private readonly int firstInput;

    public FeatureExtractor(bool useFpn = true, int backboneWidth = 24, int outChannels = 64, int finestStride = 8) : base(nameof(FeatureExtractor))
    {
        backbone = new SmallBackbone(backboneWidth);
        firstInput = Array.IndexOf(SmallBackbone.Strides, finestStride);
        if (useFpn && (firstInput < 0 || firstInput > SmallBackbone.Strides.Length - 2))
            throw new ArgumentException($"the pyramid starts at stride 4 or 8, not {finestStride}", nameof(finestStride));
        if (useFpn) fpn = new SmallFpn(backbone.Channels[firstInput..], outChannels, outputs: 2);
        else projection = nn.Conv2d(backbone.Channels[^1], outChannels, 1);
        OutChannels = outChannels;
        Strides = useFpn ? SmallBackbone.Strides[firstInput..(firstInput + 2)] : [SmallBackbone.Strides[^1]];
        RegisterComponents();
    }

    public int OutChannels { get; }

    /// <summary>The stride of each returned level, finest first.</summary>
    public int[] Strides { get; }

    /// <summary><c>[B, 3, H, W]</c> → one <c>[B, OutChannels, H/s, W/s]</c> per stride s of <see cref="Strides"/>.</summary>
    public override Tensor[] forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var c = backbone.forward(images);
        var levels = fpn is not null ? fpn.forward(c[firstInput..]) : [projection!.forward(c[^1])];
        foreach (var level in levels) level.MoveToOuterDisposeScope();
        return levels;
    }
}
