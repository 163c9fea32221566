using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Platform;

/// <summary>The outcome of one self-check: a name, pass or fail, and what was seen.</summary>
public sealed record SelfCheckResult(string Name, bool Passed, string Detail);

/// <summary>
/// Convolution and BatchNorm, forward and backward, in the backend in force against the same computation in float64
/// (which never runs on oneDNN: ATen's own kernels). Each trial draws a shape and runs the chain where the NaN showed:
/// <c>conv(k, stride) → BatchNorm2d → ReLU → conv(k)</c>, then compares the output and the gradients of the input, both
/// weights and the BatchNorm affine parameters. The failure it looks for came on first use in a process, so callers
/// run it in a fresh one (<c>pisa doctor</c>).
/// </summary>
public static class ConvolutionSelfCheck
{
    /// <summary>Relative tolerance against the largest reference magnitude: float32 accumulation over at most a few
    /// thousand terms stays far inside it, garbage never does.</summary>
    public const double Tolerance = 1e-3;

    /// <summary>Runs <paramref name="trials"/> random shapes from <paramref name="seed"/>; passes when every value is finite and within <see cref="Tolerance"/>.</summary>
    public static SelfCheckResult Run(int trials = 48, int seed = 0)
    {
        TorchPlatform.Configure();
        var random = new Random(seed);
        var failures = new List<string>();
        for (int trial = 0; trial < trials; trial++)
        {
            var shape = ChainShape.Draw(random);
            string? failure = RunTrial(shape, seed * 1000L + trial);
            if (failure is not null) failures.Add($"trial {trial} ({shape}): {failure}");
        }
        return failures.Count == 0
            ? new("convolution + batchnorm backward vs float64", true, $"{trials} random shapes, all within {Tolerance:g} of float64")
            : new("convolution + batchnorm backward vs float64", false, $"{failures.Count} of {trials} trials wrong; first: {failures[0]}");
    }

    /// <summary>One trial; null when it matches, else what differed.</summary>
    private static string? RunTrial(ChainShape shape, long seed)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var x = rand([shape.Batch, shape.InChannels, shape.Height, shape.Width], generator: generator, dtype: float64);
        var w1 = randn([shape.MidChannels, shape.InChannels, shape.Kernel, shape.Kernel], generator: generator, dtype: float64) * 0.3;
        var w2 = randn([shape.OutChannels, shape.MidChannels, shape.Kernel, shape.Kernel], generator: generator, dtype: float64) * 0.3;
        var gamma = rand([shape.MidChannels], generator: generator, dtype: float64) + 0.5;
        var beta = randn([shape.MidChannels], generator: generator, dtype: float64) * 0.1;
        var reference = Chain(shape, [x, w1, w2, gamma, beta], upstreamSeed: seed);
        var single = Chain(shape, [x.to(float32), w1.to(float32), w2.to(float32), gamma.to(float32), beta.to(float32)], upstreamSeed: seed);
        string[] names = ["output", "grad input", "grad conv1 weight", "grad conv2 weight", "grad bn weight", "grad bn bias"];
        for (int i = 0; i < names.Length; i++)
        {
            var got = single[i].to(float64);
            long nonFinite = (~got.isfinite()).sum().item<long>();
            if (nonFinite > 0) return $"{names[i]} has {nonFinite} of {got.numel()} non-finite values";
            double scale = reference[i].abs().max().item<double>();
            double error = (got - reference[i]).abs().max().item<double>();
            if (error > Tolerance * Math.Max(scale, 1e-6))
                return string.Create(CultureInfo.InvariantCulture, $"{names[i]} differs by {error:g3} (largest reference value {scale:g3})");
        }
        return null;
    }

    /// <summary>The chain's output and the gradients of its five inputs for a fixed random upstream gradient.</summary>
    private static Tensor[] Chain(ChainShape shape, Tensor[] inputs, long upstreamSeed)
    {
        var leaves = inputs.Select(t => t.detach().clone().requires_grad_(true)).ToArray();
        var (x, w1, w2, gamma, beta) = (leaves[0], leaves[1], leaves[2], leaves[3], leaves[4]);
        var hidden = nn.functional.conv2d(x, w1, strides: [shape.Stride, shape.Stride], padding: [shape.Padding, shape.Padding]);
        hidden = nn.functional.batch_norm(hidden, null, null, gamma, beta, training: true);
        var y = nn.functional.conv2d(nn.functional.relu(hidden), w2, padding: [shape.Padding, shape.Padding]);
        using var upstreamGenerator = new Generator((ulong)upstreamSeed + 7);
        var upstream = randn(y.shape, generator: upstreamGenerator, dtype: float64).to(y.dtype);
        (y * upstream).sum().backward();
        return [y.detach(), .. leaves.Select(l => l.grad!.detach())];
    }

    private sealed record ChainShape(int Batch, int InChannels, int MidChannels, int OutChannels, int Kernel, int Stride, int Padding, int Height, int Width)
    {
        private static readonly int[] Channels = [3, 4, 5, 8, 12, 16, 20, 24, 32];

        public static ChainShape Draw(Random random)
        {
            int kernel = random.Next(2) == 0 ? 1 : 3;
            return new(random.Next(1, 4), Pick(random), Pick(random), Pick(random), kernel, random.Next(1, 3),
                kernel == 3 ? random.Next(2) : 0, random.Next(9, 34), random.Next(9, 34));
        }

        private static int Pick(Random random) => Channels[random.Next(Channels.Length)];

        public override string ToString() =>
            $"{Batch}x{InChannels}x{Height}x{Width}, {InChannels}->{MidChannels}->{OutChannels}, {Kernel}x{Kernel}, stride {Stride}, padding {Padding}";
    }
}
