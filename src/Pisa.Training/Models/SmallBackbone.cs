using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// A small CNN for 128 px inputs: a stride-2 stem and three stages, each halving the resolution with a stride-2
/// conv and refining with a second conv. Returns C2 (stride 4), C3 (stride 8) and C4 (stride 16).
/// With the default widths it has about 0.3 M parameters.
/// </summary>
public sealed class SmallBackbone : nn.Module<Tensor, Tensor[]>
{
    private readonly Sequential stem, stage2, stage3, stage4;

    /// <param name="width">Channels of the stem; the stages use 1.5×, 3× and 6× that.</param>
    public SmallBackbone(int width = 24) : base(nameof(SmallBackbone))
    {
        int c2 = width * 3 / 2, c3 = width * 3, c4 = width * 6;
        stem = nn.Sequential(new ConvNormRelu(3, width, stride: 2));
        stage2 = Stage(width, c2);
        stage3 = Stage(c2, c3);
        stage4 = Stage(c3, c4);
        Channels = [c2, c3, c4];
        RegisterComponents();
    }

    /// <summary>Channels of C2, C3 and C4.</summary>
    public int[] Channels { get; }

    public static int[] Strides => [4, 8, 16];

    /// <summary><c>[B, 3, H, W]</c> → <c>[C2 [B, 1.5w, H/4, W/4], C3 [B, 3w, H/8, W/8], C4 [B, 6w, H/16, W/16]]</c>.</summary>
    public override Tensor[] forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var c2 = stage2.forward(stem.forward(images));
        var c3 = stage3.forward(c2);
        var c4 = stage4.forward(c3);
        return [c2.MoveToOuterDisposeScope(), c3.MoveToOuterDisposeScope(), c4.MoveToOuterDisposeScope()];
    }

    private static Sequential Stage(int inChannels, int outChannels) =>
        nn.Sequential(new ConvNormRelu(inChannels, outChannels, stride: 2), new ConvNormRelu(outChannels, outChannels));
}
