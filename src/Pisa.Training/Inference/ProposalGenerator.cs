using Pisa.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Inference;

/// <summary>RPN proposal settings; the defaults suit 128 px inputs with up to a dozen objects.</summary>
/// <param name="PreNmsTopK">Best-scoring anchors decoded per image (over all levels together; mmdetection takes this many per level).</param>
/// <param name="PostNmsTopK">Proposals kept per image after NMS; the output is padded to this many.</param>
/// <param name="NmsIoU">Class-agnostic NMS threshold between proposals.</param>
/// <param name="MinSize">Proposals narrower or lower than this (input pixels) are dropped before NMS.</param>
public sealed record ProposalOptions(int PreNmsTopK = 1000, int PostNmsTopK = 300, double NmsIoU = 0.7, float MinSize = 0);

/// <summary>Padded RPN proposals: boxes <c>[B, K, 4]</c> (input pixels, clipped), objectness scores <c>[B, K]</c> (sigmoid) and a mask <c>[B, K]</c> of real entries.</summary>
public sealed record Proposals(Tensor Boxes, Tensor Scores, Tensor Mask) : IDisposable
{
    public void Dispose()
    {
        Boxes.Dispose();
        Scores.Dispose();
        Mask.Dispose();
    }
}

/// <summary>
/// RPN outputs → proposals per image: top-k anchors by objectness, decode (<see cref="BoxCoder.Unit"/>), clip to the input, drop tiny
/// boxes, class-agnostic NMS, keep the best K, pad. Runs without gradient: proposals are inputs to the R-CNN stage.
/// </summary>
public static class ProposalGenerator
{
    /// <param name="anchors"><c>[N, 4]</c>, in the order of the RPN outputs.</param>
    /// <param name="objectness">Logits <c>[B, N]</c>.</param>
    /// <param name="deltas"><c>[B, N, 4]</c>.</param>
    public static Proposals Generate(Tensor anchors, Tensor objectness, Tensor deltas, int imageHeight, int imageWidth, ProposalOptions options) =>
        Generate(anchors, objectness, deltas, Enumerable.Repeat((imageHeight, imageWidth), (int)objectness.shape[0]).ToArray(), options);

    /// <param name="imageSizes">Each image's valid (height, width): its proposals are clipped to it, not to the padded batch.</param>
    public static Proposals Generate(Tensor anchors, Tensor objectness, Tensor deltas, IReadOnlyList<(int Height, int Width)> imageSizes, ProposalOptions options)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long b = objectness.shape[0];
        int k = options.PostNmsTopK;
        var boxes = zeros(b, k, 4, device: objectness.device);
        var scores = zeros(b, k, device: objectness.device);
        var mask = zeros(b, k, dtype: ScalarType.Bool, device: objectness.device);
        for (int i = 0; i < b; i++)
        {
            var (top, index) = objectness[i].topk((int)Math.Min(options.PreNmsTopK, objectness.shape[1]));
            var decoded = BoxCoder.Unit.Decode(anchors.index_select(0, index), deltas[i].index_select(0, index), imageSizes[i].Height, imageSizes[i].Width);
            var wide = ((decoded[.., 2] - decoded[.., 0]) > options.MinSize).logical_and((decoded[.., 3] - decoded[.., 1]) > options.MinSize);
            var valid = wide.nonzero().squeeze(-1);
            decoded = decoded.index_select(0, valid);
            var probabilities = top.index_select(0, valid).sigmoid();
            // NMS's kept indices, best first, stay on the device: only their count (a shape) is read.
            var keep = Nms.Batched(decoded, probabilities, zeros(valid.shape[0], dtype: ScalarType.Int64, device: objectness.device), options.NmsIoU);
            int kept = (int)Math.Min(keep.shape[0], k);
            if (kept == 0) continue;
            keep = keep[..kept];
            boxes[i, ..kept] = decoded.index_select(0, keep);
            scores[i, ..kept] = probabilities.index_select(0, keep);
            mask[i, ..kept] = true;
        }
        return new Proposals(boxes.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }
}
