using Pisa.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>Delta coding broadcasts shared priors <c>[N, 4]</c> against batched deltas <c>[B, N, 4]</c> as <c>[..., 4]</c> tensors do.</summary>
public class BoxCodingTests
{
    // Prior (0, 0)-(10, 10): centre (5, 5), size 10; deltas (0.1, 0, 0, 0) at unit stds move the centre by 0.1 · 10 = 1 px
    // in x: (1, 0)-(11, 10). Prior (20, 20)-(40, 40): centre (30, 30), size 20; deltas (0, 0, ln 2, 0) double the width
    // around the centre: (10, 20)-(50, 40).
    [Theory]
    [InlineData(2)]   // B = 2 once broadcast a [2, N] plane against [2, B, N] planes silently
    [InlineData(4)]
    public void Shared_priors_decode_every_image_of_a_batch(int batch)
    {
        using var _ = NewDisposeScope();
        var priors = tensor(new float[] { 0, 0, 10, 10, 20, 20, 40, 40 }).reshape(2, 4);
        var oneImage = tensor(new float[] { 0.1f, 0, 0, 0, 0, 0, (float)Math.Log(2), 0 }).reshape(1, 2, 4);
        var deltas = oneImage.expand(batch, 2, 4);

        var boxes = BoxCoder.Unit.Decode(priors, deltas);

        Assert.Equal([(long)batch, 2, 4], boxes.shape);
        float[] expected = [1, 0, 11, 10, 10, 20, 50, 40];
        for (int b = 0; b < batch; b++)
            Assert.Equal(expected, boxes[b].reshape(-1).data<float>().ToArray().Select(v => MathF.Round(v, 4)));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Shared_priors_encode_every_image_of_a_batch(int batch)
    {
        using var _ = NewDisposeScope();
        var priors = tensor(new float[] { 0, 0, 10, 10 }).reshape(1, 4);
        var gt = tensor(new float[] { 1, 0, 11, 10 }).reshape(1, 1, 4).expand(batch, 1, 4);

        var deltas = BoxCoder.Unit.Encode(priors, gt);

        Assert.Equal([(long)batch, 1, 4], deltas.shape);
        for (int b = 0; b < batch; b++)
            Assert.Equal([0.1f, 0, 0, 0], deltas[b, 0].data<float>().ToArray().Select(v => MathF.Round(v, 5)));
    }
}
