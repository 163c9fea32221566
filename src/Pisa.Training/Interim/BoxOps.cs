using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Interim;

/// <summary>
/// Interim box helpers for decoding detections, written to ALGORITHMS.md ("Boxes") so the runner does not wait for
/// Pisa.Kernels. Everything here is meant to be replaced by the kernels' <c>delta_xywh_decode</c> and exact NMS:
/// callers use only <see cref="DecodeDeltas"/>, <see cref="ClipToImage"/> and <see cref="BatchedNms"/>.
/// </summary>
public static class BoxOps
{
    /// <summary>mmdetection's default <c>wh_ratio_clip</c>: dw, dh are clamped to ±|ln(16/1000)| = ±4.1351666.</summary>
    public const double WhRatioClip = 16.0 / 1000;

    /// <summary>R-CNN box head target stds (means 0).</summary>
    public static readonly float[] RcnnStds = [0.1f, 0.1f, 0.2f, 0.2f];

    /// <summary>RPN and RetinaNet target stds (means 0).</summary>
    public static readonly float[] UnitStds = [1f, 1f, 1f, 1f];

    /// <summary>
    /// <c>delta_xywh_decode</c>: priors <c>[..., 4]</c> x1y1x2y2 and deltas <c>[..., 4]</c> (broadcastable) → boxes <c>[..., 4]</c>.
    /// Deltas are de-normalised (<c>d·std + mean</c>), dw and dh clamped to ±|ln(whRatioClip)| before exp; the centre
    /// shift is not clamped. No clipping to the image (see <see cref="ClipToImage"/>).
    /// </summary>
    public static Tensor DecodeDeltas(Tensor priors, Tensor deltas, float[] stds, float[]? means = null, double whRatioClip = WhRatioClip)
    {
        using var scope = NewDisposeScope();
        var std = tensor(stds, device: deltas.device).to(deltas.dtype);
        var d = deltas * std;
        if (means is not null) d += tensor(means, device: deltas.device).to(deltas.dtype);
        double maxRatio = Math.Abs(Math.Log(whRatioClip));
        var pw = priors[TensorIndex.Ellipsis, 2] - priors[TensorIndex.Ellipsis, 0];
        var ph = priors[TensorIndex.Ellipsis, 3] - priors[TensorIndex.Ellipsis, 1];
        var px = priors[TensorIndex.Ellipsis, 0] + 0.5 * pw;
        var py = priors[TensorIndex.Ellipsis, 1] + 0.5 * ph;
        var gw = pw * d[TensorIndex.Ellipsis, 2].clamp(-maxRatio, maxRatio).exp();
        var gh = ph * d[TensorIndex.Ellipsis, 3].clamp(-maxRatio, maxRatio).exp();
        var gx = px + pw * d[TensorIndex.Ellipsis, 0];
        var gy = py + ph * d[TensorIndex.Ellipsis, 1];
        return stack([gx - 0.5 * gw, gy - 0.5 * gh, gx + 0.5 * gw, gy + 0.5 * gh], -1).MoveToOuterDisposeScope();
    }

    /// <summary>Boxes <c>[..., 4]</c> clipped to an image of <paramref name="height"/> × <paramref name="width"/>.</summary>
    public static Tensor ClipToImage(Tensor boxes, int height, int width)
    {
        using var scope = NewDisposeScope();
        var x = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(0, 4, 2)].clamp(0, width);
        var y = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(1, 4, 2)].clamp(0, height);
        return stack([x[TensorIndex.Ellipsis, 0], y[TensorIndex.Ellipsis, 0], x[TensorIndex.Ellipsis, 1], y[TensorIndex.Ellipsis, 1]], -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Greedy NMS within each label: boxes <c>[N, 4]</c>, scores <c>[N]</c>, labels <c>[N]</c> → kept indices, highest
    /// score first (ties: lower index first). A box is suppressed by a kept box of its label when IoU &gt; threshold
    /// (strictly, as plain NMS); IoU has no +1 and its union is clamped at 1e-6.
    /// </summary>
    public static long[] BatchedNms(Tensor boxes, Tensor scores, Tensor labels, double iouThreshold)
    {
        if (boxes.shape[0] == 0) return [];
        float[] b = boxes.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        float[] s = scores.to(ScalarType.Float32).cpu().data<float>().ToArray();
        long[] l = labels.to(ScalarType.Int64).cpu().data<long>().ToArray();
        int[] order = Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]).ThenBy(i => i).ToArray();
        var kept = new List<long>();
        var suppressed = new bool[s.Length];
        for (int oi = 0; oi < order.Length; oi++)
        {
            int i = order[oi];
            if (suppressed[i]) continue;
            kept.Add(i);
            for (int oj = oi + 1; oj < order.Length; oj++)
            {
                int j = order[oj];
                if (!suppressed[j] && l[j] == l[i] && IoU(b, i, j) > iouThreshold) suppressed[j] = true;
            }
        }
        return kept.ToArray();
    }

    private static double IoU(float[] b, int i, int j)
    {
        double ix = Math.Max(0, Math.Min(b[4 * i + 2], b[4 * j + 2]) - Math.Max(b[4 * i], b[4 * j]));
        double iy = Math.Max(0, Math.Min(b[4 * i + 3], b[4 * j + 3]) - Math.Max(b[4 * i + 1], b[4 * j + 1]));
        double inter = ix * iy;
        double areaI = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
        double areaJ = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
        return inter / Math.Max(areaI + areaJ - inter, 1e-6);
    }
}
