using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// mmdetection's FPN (Lin et al. 2017): a 1×1 lateral conv per input level to a common width, each coarser level
/// upsampled (nearest, to the finer level's size) and added to the finer one, a 3×3 conv on every merged level, then
/// the extra coarser levels: <see cref="FpnExtraLevels.MaxPool"/> (the two-stage neck, <c>add_extra_convs=False</c>:
/// P6 = max-pool of P5 with stride 2) or <see cref="FpnExtraLevels.ConvOnInput"/> (RetinaNet's,
/// <c>add_extra_convs='on_input'</c>: P6 = 3×3 stride-2 conv of C5, P7 = 3×3 stride-2 conv of P6).
/// </summary>
public sealed class Fpn : nn.Module<Tensor[], Tensor[]>
{
    private readonly ModuleList<Conv2d> laterals, outputs, extras;
    private readonly FpnExtraLevels extraKind;
    private readonly int extraLevels;

    /// <param name="inChannels">Channels of the input levels, finest first.</param>
    /// <param name="extraLevels">Levels added above the coarsest input.</param>
    public Fpn(IReadOnlyList<int> inChannels, int outChannels, int extraLevels, FpnExtraLevels extraKind) : base(nameof(Fpn))
    {
        laterals = new ModuleList<Conv2d>(inChannels.Select(c => nn.Conv2d(c, outChannels, 1)).ToArray());
        outputs = new ModuleList<Conv2d>(inChannels.Select(_ => nn.Conv2d(outChannels, outChannels, 3, padding: 1)).ToArray());
        extras = new ModuleList<Conv2d>(extraKind == FpnExtraLevels.ConvOnInput
            ? Enumerable.Range(0, extraLevels).Select(i => nn.Conv2d(i == 0 ? inChannels[^1] : outChannels, outChannels, 3, stride: 2, padding: 1)).ToArray()
            : []);
        // mmdetection's FPN.init_weights: xavier_init(distribution='uniform') on every conv.
        foreach (var conv in laterals.Concat(outputs).Concat(extras))
        {
            nn.init.xavier_uniform_(conv.weight);
            nn.init.zeros_(conv.bias!);
        }
        (this.extraLevels, this.extraKind) = (extraLevels, extraKind);
        RegisterComponents();
    }

    /// <summary>Input levels <c>[B, c_l, H_l, W_l]</c>, finest first → <c>inputs + extraLevels</c> levels <c>[B, outChannels, H_l, W_l]</c>, finest first.</summary>
    public override Tensor[] forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        var merged = new Tensor[features.Length];
        merged[^1] = laterals[^1].forward(features[^1]);
        for (int l = features.Length - 2; l >= 0; l--)
        {
            var lateral = laterals[l].forward(features[l]);
            merged[l] = lateral + nn.functional.interpolate(merged[l + 1], size: [lateral.shape[2], lateral.shape[3]], mode: InterpolationMode.Nearest);
        }
        var levels = merged.Select((m, l) => outputs[l].forward(m)).ToList();
        for (int e = 0; e < extraLevels; e++)
            levels.Add(extraKind == FpnExtraLevels.MaxPool
                ? nn.functional.max_pool2d(levels[^1], kernel_size: [1, 1], strides: [2, 2])
                : extras[e].forward(e == 0 ? features[^1] : levels[^1]));
        foreach (var level in levels) level.MoveToOuterDisposeScope();
        return [.. levels];
    }
}

/// <summary>How an <see cref="Fpn"/> makes the levels above its coarsest input.</summary>
public enum FpnExtraLevels { MaxPool, ConvOnInput }
