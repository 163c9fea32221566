using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// A small feature pyramid: a 1×1 lateral per input level to a common width, each coarser level upsampled (nearest)
/// and added to the next finer one, then a 3×3 conv on the <c>outputs</c> finest levels. The levels above them only
/// pass context down, so a pyramid over <c>[C2, C3, C4]</c> with two outputs gives <c>[P2, P3]</c>, and one over
/// <c>[C3, C4]</c> gives <c>[P3, P4]</c>.
/// </summary>
public sealed class SmallFpn : nn.Module<Tensor[], Tensor[]>
{
    private readonly ModuleList<Conv2d> laterals, outputs;

    public SmallFpn(IReadOnlyList<int> inChannels, int outChannels, int outputs) : base(nameof(SmallFpn))
    {
        if (outputs < 1 || outputs > inChannels.Count) throw new ArgumentOutOfRangeException(nameof(outputs));
        laterals = new ModuleList<Conv2d>(inChannels.Select(c => nn.Conv2d(c, outChannels, 1)).ToArray());
        this.outputs = new ModuleList<Conv2d>(Enumerable.Range(0, outputs).Select(_ => nn.Conv2d(outChannels, outChannels, 3, padding: 1)).ToArray());
        foreach (var conv in laterals.Concat(this.outputs))
        {
            nn.init.xavier_uniform_(conv.weight);
            nn.init.zeros_(conv.bias!);
        }
        RegisterComponents();
    }

    /// <summary>Input levels, finest first → the <c>outputs</c> finest pyramid levels.</summary>
    public override Tensor[] forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        var merged = laterals[^1].forward(features[^1]);
        var levels = new Tensor[outputs.Count];
        for (int l = features.Length - 1; l >= 0; l--)
        {
            if (l < features.Length - 1)
                merged = laterals[l].forward(features[l]) + nn.functional.interpolate(merged, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
            if (l < levels.Length) levels[l] = outputs[l].forward(merged).MoveToOuterDisposeScope();
        }
        return levels;
    }
}
