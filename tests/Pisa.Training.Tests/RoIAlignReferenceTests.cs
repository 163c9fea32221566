using System.Text.Json;
using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

/// <summary>
/// RoIAlign's two implementations against each other, against finite differences of a float64 reference, and against
/// torchvision's C++ <c>roi_align</c> (aligned=True) where python3-torchvision is installed.
/// </summary>
public class RoIAlignReferenceTests
{
    /// <summary>2 images, 5 channels, two levels (strides 4, 8 of a 40×48 input); 30 RoIs per image inside, across and beyond the borders.</summary>
    private static (Tensor[] Levels, Tensor Rois) RandomPyramid()
    {
        var g = new Generator(11);
        var levels = new[] { randn([2, 5, 10, 12], generator: g), randn([2, 5, 5, 6], generator: g) };
        var corner = rand([2, 30, 2], generator: g) * 60 - 10;
        return (levels, cat([corner, corner + rand([2, 30, 2], generator: g) * 50 + 1], -1));
    }

    /// <summary>Forward output and d(Σ output · upstream)/d(levels) of one extractor.</summary>
    private static (Tensor Pooled, Tensor[] Gradients) PoolWithGradients(MultiLevelRoIExtractor extractor, Tensor[] levels, Tensor rois, Tensor upstream,
        Tensor? known = null, Tensor? knownMask = null)
    {
        var inputs = levels.Select(l => l.detach().requires_grad_(true)).ToArray();
        var pooled = extractor.Apply(inputs, rois, known, knownMask);
        (pooled * upstream.to(pooled.dtype)).sum().backward();
        return (pooled.detach(), inputs.Select(i => i.grad!).ToArray());
    }

    [Fact]
    public void The_cpu_kernel_and_the_tensor_path_agree_across_levels_forward_and_backward()
    {
        var (levels, rois) = RandomPyramid();
        var cpu = new MultiLevelRoIExtractor([4, 8], outputSize: 3, samplingRatio: 2, finestScale: 16);
        var tensorPath = new MultiLevelRoIExtractor([4, 8], outputSize: 3, samplingRatio: 2, finestScale: 16) { Path = RoIAlignPath.Tensor };
        var level = cpu.LevelOf(rois);
        Assert.True(level.eq(0).any().ToBoolean() && level.eq(1).any().ToBoolean(), "the RoIs should read both levels");
        var upstream = randn([2, 30, 5, 3, 3], generator: new Generator(5));

        var (fast, fastGrads) = PoolWithGradients(cpu, levels, rois, upstream);
        var (reference, referenceGrads) = PoolWithGradients(tensorPath, levels, rois, upstream);
        Assert.True(fast.allclose(reference, rtol: 1e-5, atol: 1e-6), $"max |difference| {(fast - reference).abs().max().ToSingle()}");
        for (int l = 0; l < 2; l++)
            Assert.True(fastGrads[l].allclose(referenceGrads[l], rtol: 1e-5, atol: 1e-5), $"level {l}: max |difference| {(fastGrads[l] - referenceGrads[l]).abs().max().ToSingle()}");
    }

    [Fact]
    public void Known_outputs_are_copied_for_the_masked_rois_and_leave_the_gradient_unchanged()
    {
        // The two-stage runner passes the box-head probe's RoI features for the sampled RoIs: they must be used as they
        // are (a marker shows it) and, being what pooling gives, change neither the output nor the gradient by a bit.
        var (levels, rois) = RandomPyramid();
        var extractor = new MultiLevelRoIExtractor([4, 8], outputSize: 3, samplingRatio: 2, finestScale: 16);
        var upstream = randn([2, 30, 5, 3, 3], generator: new Generator(5));
        var mask = rand([2, 30], generator: new Generator(9)) < 0.5;
        var (plain, plainGrads) = PoolWithGradients(extractor, levels, rois, upstream);

        var (marked, _) = PoolWithGradients(extractor, levels, rois, upstream, known: full([2, 30, 5, 3, 3], 1234f), knownMask: mask);
        var expected = where(mask.reshape(2, 30, 1, 1, 1), tensor(1234f), plain);
        Assert.True(marked.eq(expected).all().ToBoolean(), $"masked RoIs copy the known outputs, the others are pooled: max |difference| {(marked - expected).abs().max().ToSingle()}, masked {mask.sum().ToInt64()}, marked 1234s {marked.eq(1234f).sum().ToInt64()}");

        var (reused, reusedGrads) = PoolWithGradients(extractor, levels, rois, upstream, known: plain, knownMask: mask);
        Assert.True(reused.eq(plain).all().ToBoolean());
        for (int l = 0; l < 2; l++) Assert.True(reusedGrads[l].eq(plainGrads[l]).all().ToBoolean(), $"level {l} gradient");
    }

    [Fact]
    public void The_gradient_matches_finite_differences_of_a_float64_reference()
    {
        // RoIAlign is linear in the features, so central differences of the float64 tensor path are exact up to rounding.
        var g = new Generator(3);
        var features = randn([1, 2, 4, 5], dtype: ScalarType.Float64, generator: g);
        var rois = tensor(new double[] { 0.3, 0.9, 13.1, 9.7, -3, 2.2, 6.4, 19, 9.5, -1.5, 22, 5.5 }).reshape(1, 3, 4);
        var upstream = randn([1, 3, 2, 2, 2], dtype: ScalarType.Float64, generator: g);
        var reference = new RoIAlign(2, 0.25, 2) { Path = RoIAlignPath.Tensor };
        double Loss(Tensor f) => (reference.Apply(f, rois) * upstream).sum().ToDouble();

        var numeric = zeros_like(features);
        const double eps = 1e-6;
        for (long i = 0; i < features.numel(); i++)
        {
            var plus = features.clone(); plus.view(-1)[i] += eps;
            var minus = features.clone(); minus.view(-1)[i] -= eps;
            numeric.view(-1)[i] = (Loss(plus) - Loss(minus)) / (2 * eps);
        }
        Assert.True(numeric.abs().sum().ToDouble() > 0.1, "the RoIs should touch the features");

        var f64 = features.clone().requires_grad_(true);
        (reference.Apply(f64, rois) * upstream).sum().backward();
        Assert.True(f64.grad!.allclose(numeric, rtol: 1e-6, atol: 1e-8), "tensor path, float64");

        var f32 = features.to(ScalarType.Float32).requires_grad_(true);
        (new RoIAlign(2, 0.25, 2).Apply(f32, rois.to(ScalarType.Float32)) * upstream.to(ScalarType.Float32)).sum().backward();
        Assert.True(f32.grad!.to(ScalarType.Float64).allclose(numeric, rtol: 1e-5, atol: 1e-5), "CPU kernel, float32");
    }

    [PythonTorchTheory]
    [InlineData(RoIAlignPath.Auto)]
    [InlineData(RoIAlignPath.Tensor)]
    public void Matches_torchvision_roi_align_forward_and_backward(RoIAlignPath path)
    {
        string script = RepoPaths.InRoot("bench", "roi_align_torchvision.py");
        var g = new Generator(17);
        var features = randn([2, 3, 9, 11], generator: g);
        var corner = rand([2, 20, 2], generator: g) * 26 - 4;
        var rois = cat([corner, corner + rand([2, 20, 2], generator: g) * 16 + 0.5], -1);
        var upstream = randn([2, 20, 3, 3, 3], generator: g);
        string folder = Directory.CreateTempSubdirectory("pisa-roialign-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "meta.json"), JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["features"] = features.shape, ["rois"] = rois.shape, ["output_size"] = 3, ["spatial_scale"] = 0.5, ["sampling_ratio"] = 2, ["aligned"] = true,
            }));
            WriteFloats(Path.Combine(folder, "features.f32"), features);
            WriteFloats(Path.Combine(folder, "rois.f32"), rois);
            WriteFloats(Path.Combine(folder, "upstream.f32"), upstream);
            PythonTorch.RunFile(script, "pool", folder);

            var input = features.clone().requires_grad_(true);
            var ours = new RoIAlign(3, 0.5, 2) { Path = path }.Apply(input, rois);
            (ours * upstream).sum().backward();
            var theirs = ReadFloats(Path.Combine(folder, "torchvision_out.f32")).reshape(ours.shape);
            var theirGrad = ReadFloats(Path.Combine(folder, "torchvision_grad.f32")).reshape(features.shape);
            Assert.True(ours.detach().allclose(theirs, rtol: 1e-5, atol: 1e-6), $"forward: max |difference| {(ours - theirs).abs().max().ToSingle()}");
            Assert.True(input.grad!.allclose(theirGrad, rtol: 1e-5, atol: 1e-5), $"backward: max |difference| {(input.grad! - theirGrad).abs().max().ToSingle()}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void WriteFloats(string file, Tensor t) => File.WriteAllBytes(file, t.contiguous().bytes.ToArray());

    private static Tensor ReadFloats(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values);
    }
}
