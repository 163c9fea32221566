using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>3×3 convolution (no bias: the norm has one) → BatchNorm → ReLU. <c>[B, in, H, W] → [B, out, H/stride, W/stride]</c>.</summary>
public sealed class ConvNormRelu : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d norm;

    public ConvNormRelu(long inChannels, long outChannels, long stride = 1) : base(nameof(ConvNormRelu))
    {
        conv = nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: 1, bias: false);
        norm = nn.BatchNorm2d(outChannels);
        nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return nn.functional.relu(norm.forward(conv.forward(input)), inplace: true).MoveToOuterDisposeScope();
    }
}
