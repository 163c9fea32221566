using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// A two-level feature pyramid: 1×1 laterals to a common width, the coarse level upsampled (nearest) and added to
/// the fine one, then a 3×3 conv per level. <c>[C3, C4] → [P3, P4]</c> with <c>outChannels</c> each.
/// </summary>
public sealed class SmallFpn : nn.Module<Tensor[], Tensor[]>
{
    private readonly Conv2d lateral3, lateral4, output3, output4;

    public SmallFpn(int c3Channels, int c4Channels, int outChannels) : base(nameof(SmallFpn))
    {
        lateral3 = nn.Conv2d(c3Channels, outChannels, 1);
        lateral4 = nn.Conv2d(c4Channels, outChannels, 1);
        output3 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        output4 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        foreach (var conv in new[] { lateral3, lateral4, output3, output4 })
        {
            nn.init.xavier_uniform_(conv.weight);
            nn.init.zeros_(conv.bias!);
        }
        RegisterComponents();
    }

    public override Tensor[] forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        var top = lateral4.forward(features[1]);
        var fine = lateral3.forward(features[0]) + nn.functional.interpolate(top, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return [output3.forward(fine).MoveToOuterDisposeScope(), output4.forward(top).MoveToOuterDisposeScope()];
    }
}
