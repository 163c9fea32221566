using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// Region proposal head shared across levels: 3×3 conv + ReLU, then 1×1 convs for one objectness logit and four
/// box deltas per anchor. Weights start at N(0, 0.01), biases at 0 (as mmdetection's RPN).
/// </summary>
public sealed class RpnHead : nn.Module<Tensor[], (Tensor Objectness, Tensor Deltas)>
{
    private readonly Conv2d conv, objectness, deltas;

    public RpnHead(int inChannels, int anchorsPerLocation) : base(nameof(RpnHead))
    {
        conv = nn.Conv2d(inChannels, inChannels, 3, padding: 1);
        objectness = nn.Conv2d(inChannels, anchorsPerLocation, 1);
        deltas = nn.Conv2d(inChannels, anchorsPerLocation * 4, 1);
        foreach (var c in new[] { conv, objectness, deltas })
        {
            nn.init.normal_(c.weight, 0, 0.01);
            nn.init.zeros_(c.bias!);
        }
        RegisterComponents();
    }

    /// <summary>Levels <c>[B, C, H_l, W_l]</c> → objectness logits <c>[B, N]</c> and deltas <c>[B, N, 4]</c>, N anchors in generator order.</summary>
    public override (Tensor Objectness, Tensor Deltas) forward(Tensor[] levels)
    {
        using var scope = NewDisposeScope();
        var hidden = levels.Select(level => nn.functional.relu(conv.forward(level))).ToArray();
        var logits = HeadOutputs.Flatten(hidden.Select(h => objectness.forward(h)).ToList(), 1).squeeze(-1);
        var boxDeltas = HeadOutputs.Flatten(hidden.Select(h => deltas.forward(h)).ToList(), 4);
        return (logits.MoveToOuterDisposeScope(), boxDeltas.MoveToOuterDisposeScope());
    }
}
