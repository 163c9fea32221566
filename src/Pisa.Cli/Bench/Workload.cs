using Pisa.Kernels;
using Pisa.Conformance;
using static TorchSharp.torch;

namespace Pisa.Cli.Bench;

/// <summary>
/// One benchmark instance (WORKLOAD.md): B images with G gts and P proposals each, and a box head's logits and
/// class-specific deltas for every prior, rows ordered <c>[gts; proposals]</c>.
/// </summary>
/// <param name="Gts">[B, G, 4].</param>
/// <param name="GtLabels">[B, G] int64.</param>
/// <param name="Proposals">[B, P, 4].</param>
/// <param name="ClsScore">[B, G+P, C+1].</param>
/// <param name="BboxPred">[B, G+P, 4C].</param>
public sealed record Workload(string Name, int NumClasses, Tensor Gts, Tensor GtLabels, Tensor Proposals, Tensor ClsScore, Tensor BboxPred)
{
    /// <summary>Image height and width of the workload.</summary>
    public const double Height = 800, Width = 1333;

    public long Images => Gts.shape[0];
    public long GtsPerImage => Gts.shape[1];
    public long ProposalsPerImage => Proposals.shape[1];

    /// <summary>Reads the dumped instance (conformance layout, <c>op: workload</c>, inputs <c>img{i}_*</c>).</summary>
    public static Workload Read(string file)
    {
        ConformanceCase c;
        try { c = ConformanceCase.Read(file, requireOutputs: false); }
        catch (MalformedCaseException ex) { throw new PisaUserException($"{file}: {ex.Message}"); }
        if (c.Op != "workload") throw new PisaUserException($"{file}: op is '{c.Op}', not workload");
        int images = c.Params.TryGetProperty("num_images", out var n) ? n.GetInt32() : 2;
        int classes = c.Params.TryGetProperty("num_classes", out var k) ? k.GetInt32() : 80;
        Tensor Input(int image, string name) => c.Inputs.TryGetValue($"img{image}_{name}", out var a)
            ? tensor(a.Data.Select(v => (float)v).ToArray(), a.Shape)
            : throw new PisaUserException($"{file}: missing input 'img{image}_{name}'");
        var gts = stack(Enumerable.Range(0, images).Select(i => Input(i, "gt_bboxes")).ToArray());
        var labels = stack(Enumerable.Range(0, images).Select(i => Input(i, "gt_labels").to(ScalarType.Int64)).ToArray());
        var proposals = stack(Enumerable.Range(0, images).Select(i => Input(i, "proposals")).ToArray());
        var cls = stack(Enumerable.Range(0, images).Select(i => Input(i, "cls_score")).ToArray());
        // Row r, class c = delta_base[r] + delta_cls_off[c] (a float32 add), laid out [rows, C*4].
        var pred = stack(Enumerable.Range(0, images).Select(i =>
            (Input(i, "delta_base").unsqueeze(1) + Input(i, "delta_cls_off").unsqueeze(0)).reshape(-1, classes * 4)).ToArray());
        return new Workload(Path.GetFileNameWithoutExtension(file), classes, gts, labels, proposals, cls, pred);
    }

    /// <summary>Generates an instance with WORKLOAD.md's recipe (seeded).</summary>
    public static Workload Generate(int seed, int images, int gtsPerImage, int proposalsPerImage, int numClasses = 80)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        double LogUniform(double lo, double hi) => Math.Exp(Math.Log(lo) + random.NextDouble() * (Math.Log(hi) - Math.Log(lo)));
        float[] Box(double cx, double cy, double w, double h)
        {
            double x1 = Math.Clamp(cx - w / 2, 0, Width), y1 = Math.Clamp(cy - h / 2, 0, Height);
            double x2 = Math.Clamp(cx + w / 2, 0, Width), y2 = Math.Clamp(cy + h / 2, 0, Height);
            return [R(x1), R(y1), R(Math.Max(x2, x1 + 1)), R(Math.Max(y2, y1 + 1))];
        }

        var gts = new float[images, gtsPerImage, 4];
        var labels = new long[images * gtsPerImage];
        var proposals = new float[images, proposalsPerImage, 4];
        for (int b = 0; b < images; b++)
        {
            for (int g = 0; g < gtsPerImage; g++)
            {
                double w = LogUniform(16, 480), h = w * Math.Exp(0.4 * Normal());
                Put(gts, b, g, Box(random.NextDouble() * Width, random.NextDouble() * Height, w, h));
                labels[b * gtsPerImage + g] = random.Next(numClasses);
            }
            for (int p = 0; p < proposalsPerImage; p++)
            {
                if (random.NextDouble() < 0.7)
                {
                    int g = random.Next(gtsPerImage);
                    double gw = gts[b, g, 2] - gts[b, g, 0], gh = gts[b, g, 3] - gts[b, g, 1];
                    double cx = (gts[b, g, 0] + gts[b, g, 2]) / 2 + 0.2 * Normal() * gw, cy = (gts[b, g, 1] + gts[b, g, 3]) / 2 + 0.2 * Normal() * gh;
                    Put(proposals, b, p, Box(cx, cy, gw * Math.Exp(0.3 * Normal()), gh * Math.Exp(0.3 * Normal())));
                }
                else
                {
                    double w = LogUniform(8, 600), h = w * Math.Exp(0.5 * Normal());
                    Put(proposals, b, p, Box(random.NextDouble() * Width, random.NextDouble() * Height, w, h));
                }
            }
        }
        var gtTensor = tensor(gts);
        var labelTensor = tensor(labels, [images, gtsPerImage]);
        var proposalTensor = tensor(proposals);
        var priors = cat([gtTensor, proposalTensor], 1);
        var overlaps = Boxes.Overlaps(gtTensor, priors); // [B, G, G+P]
        var (maxIou, argmax) = overlaps.max(1);
        var generator = new Generator((ulong)seed);
        var cls = randn([images, priors.shape[1], numClasses + 1], generator: generator);
        cls[.., .., numClasses] += 1.5 + 3 * (1 - maxIou);
        var matchedClass = labelTensor.gather(1, argmax);
        cls.scatter_add_(2, matchedClass.unsqueeze(-1), (4 * maxIou).unsqueeze(-1));
        var pred = (randn([images, priors.shape[1], 1, 4], generator: generator) * 0.1 + randn([1, 1, numClasses, 4], generator: generator) * 0.05)
            .reshape(images, priors.shape[1], numClasses * 4);
        string classes = numClasses == 80 ? "" : $"_c{numClasses}";
        return new Workload($"generated_g{gtsPerImage}_p{proposalsPerImage}{classes}", numClasses, gtTensor, labelTensor, proposalTensor, cls, pred);
    }

    private static float R(double v) => (float)Math.Round(v, 2);

    private static void Put(float[,,] array, int b, int i, float[] box)
    {
        for (int k = 0; k < 4; k++) array[b, i, k] = box[k];
    }
}
