using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>Lays out dense head outputs in anchor order (see <see cref="AnchorGenerator"/>).</summary>
public static class HeadOutputs
{
    /// <summary>
    /// Per-level maps <c>[B, A·K, H_l, W_l]</c> → <c>[B, Σ_l H_l·W_l·A, K]</c>, location-major then anchor,
    /// matching <see cref="AnchorGenerator.Generate"/>.
    /// </summary>
    public static Tensor Flatten(IReadOnlyList<Tensor> levels, int valuesPerAnchor)
    {
        using var scope = NewDisposeScope();
        var flat = levels.Select(map =>
        {
            long b = map.shape[0];
            return map.permute(0, 2, 3, 1).reshape(b, -1, valuesPerAnchor);
        }).ToArray();
        return cat(flat, 1).MoveToOuterDisposeScope();
    }
}
