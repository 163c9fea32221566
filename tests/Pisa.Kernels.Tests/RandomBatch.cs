using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>Seeded random detection batches for property and differential tests: gts and proposals jittered around them.</summary>
public sealed record RandomBatch(Tensor Gts, Tensor GtLabels, Tensor GtMask, Tensor Proposals, Tensor ProposalMask, int NumClasses)
{
    /// <summary>B images of up to <paramref name="maxGts"/> gts (some images get fewer, padded) and N proposals, 60 % jittered around gts.</summary>
    public static RandomBatch Create(int seed, int images = 3, int maxGts = 6, int proposals = 120, int numClasses = 4, bool allowEmptyImage = true)
    {
        var random = new Random(seed);
        var gts = new float[images * maxGts * 4];
        var labels = new long[images * maxGts];
        var gtMask = new bool[images * maxGts];
        var boxes = new float[images * proposals * 4];
        for (int b = 0; b < images; b++)
        {
            int count = allowEmptyImage && b == images - 1 && random.Next(3) == 0 ? 0 : random.Next(1, maxGts + 1);
            for (int g = 0; g < count; g++)
            {
                int k = b * maxGts + g;
                Box(random, 200, 200, 10, 80).CopyTo(gts, k * 4);
                labels[k] = random.Next(numClasses);
                gtMask[k] = true;
            }
            for (int p = 0; p < proposals; p++)
            {
                float[] box;
                if (count > 0 && random.NextDouble() < 0.6)
                {
                    int g = b * maxGts + random.Next(count);
                    float w = gts[g * 4 + 2] - gts[g * 4], h = gts[g * 4 + 3] - gts[g * 4 + 1];
                    float dx = (float)(random.NextDouble() - 0.5) * 0.4f * w, dy = (float)(random.NextDouble() - 0.5) * 0.4f * h;
                    float s = (float)Math.Exp((random.NextDouble() - 0.5) * 0.5);
                    float cx = gts[g * 4] + w / 2 + dx, cy = gts[g * 4 + 1] + h / 2 + dy;
                    box = [Round(cx - w * s / 2), Round(cy - h * s / 2), Round(cx + w * s / 2), Round(cy + h * s / 2)];
                }
                else box = Box(random, 200, 200, 5, 100);
                box.CopyTo(boxes, (b * proposals + p) * 4);
            }
        }
        var proposalMask = ones(images, proposals, ScalarType.Bool);
        return new RandomBatch(tensor(gts, [images, maxGts, 4]), tensor(labels, [images, maxGts]), tensor(gtMask, [images, maxGts]),
            tensor(boxes, [images, proposals, 4]), proposalMask, numClasses);
    }

    /// <summary>Random logits for every candidate: [B, N, C+1].</summary>
    public static Tensor Logits(int seed, long images, long candidates, int numClasses) =>
        randn([images, candidates, numClasses + 1], generator: new Generator((ulong)seed)) * 2;

    private static float[] Box(Random random, float width, float height, float minSize, float maxSize)
    {
        float w = (float)(minSize + random.NextDouble() * (maxSize - minSize)), h = (float)(minSize + random.NextDouble() * (maxSize - minSize));
        float x = (float)random.NextDouble() * (width - w), y = (float)random.NextDouble() * (height - h);
        return [Round(x), Round(y), Round(x + w), Round(y + h)];
    }

    // Coordinates on a 1/8 px grid keep IoU ties rare but exact, like the workload's rounded coordinates.
    private static float Round(float v) => MathF.Round(v * 8) / 8;
}
