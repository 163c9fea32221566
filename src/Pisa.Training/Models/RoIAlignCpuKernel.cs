using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// RoIAlign on the CPU as the reference kernels compute it: per RoI, the taps of each axis once (as
/// <see cref="PyramidRoIAlign.AxisTaps"/> does with tensors), then per bin and sample four weighted C-vectors of the
/// channels-last table, added with SIMD. The backward pass scatters the same taps; it is differentiable in the
/// features only (RoIs are detached, as every caller has them).
/// </summary>
internal static class RoIAlignCpuKernel
{
    /// <summary>Table rows <c>[N, C]</c> (float32, CPU), RoIs <c>[B, R, 4]</c>, levels <c>[B, R]</c> → <c>[B, R, C, P, P]</c> (contiguous).</summary>
    /// <param name="known">optional <c>[B, R, C, P, P]</c> outputs already pooled (without gradient) for the RoIs where
    /// <paramref name="knownMask"/> (<c>[B, R]</c> bool) is set: copied rather than pooled again; the gradient is unchanged.</param>
    public static Tensor Pool(FeatureTable table, Tensor rois, Tensor level, int p, int s, Tensor? known = null, Tensor? knownMask = null)
    {
        var plan = SamplingPlan.Of(table, rois, level, p, s);
        if (known is not null && knownMask is not null)
        {
            plan.Known = knownMask.cpu().contiguous().data<bool>().ToArray();
            plan.KnownOutput = known.detach().to(ScalarType.Float32).cpu().contiguous();
        }
        return RoIAlignFunction.apply(table.Rows, plan);
    }

    /// <summary>The autograd node: forward pools, backward scatters the output's gradient to the table rows.</summary>
    private sealed class RoIAlignFunction : autograd.SingleTensorFunction<RoIAlignFunction>
    {
        public override string Name => "RoIAlignCpu";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var rows = ((Tensor)vars[0]).contiguous();
            var plan = (SamplingPlan)vars[1];
            ctx.save_data("plan", plan);
            ctx.save_data("rows", rows.shape[0]);
            var output = empty([plan.Batch, plan.RoIs, plan.Channels, plan.P, plan.P], ScalarType.Float32);
            plan.Forward(rows, output);
            return output;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var plan = (SamplingPlan)ctx.get_data("plan");
            var gradRows = zeros([(long)ctx.get_data("rows"), plan.Channels], ScalarType.Float32);
            plan.Backward(gradOutput.contiguous(), gradRows);
            return [gradRows, null!]; // one per argument of apply: the plan has no gradient
        }
    }

    /// <summary>Every RoI's first table row, row stride and per-axis taps, read once from the RoI and level tensors.</summary>
    private sealed class SamplingPlan
    {
        public required int P, S, Channels;
        public required long Batch, RoIs;
        public required long[] FirstRow;            // [B·R]
        public required int[] Width;                // [B·R]
        public required int[] YLow, YHigh, XLow, XHigh;             // [B·R, P·s]
        public required float[] YwLow, YwHigh, XwLow, XwHigh;       // [B·R, P·s]
        public bool[]? Known;                                       // [B·R]: outputs to copy from KnownOutput
        public Tensor? KnownOutput;                                 // [B, R, C, P, P]

        public static SamplingPlan Of(FeatureTable table, Tensor rois, Tensor level, int p, int s)
        {
            long b = rois.shape[0], r = rois.shape[1];
            var boxes = rois.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            var levels = level.cpu().contiguous().data<long>().ToArray();
            int n = (int)(b * r), taps = n * p * s;
            var plan = new SamplingPlan
            {
                P = p, S = s, Channels = (int)table.Rows.shape[1], Batch = b, RoIs = r,
                FirstRow = new long[n], Width = new int[n],
                YLow = new int[taps], YHigh = new int[taps], XLow = new int[taps], XHigh = new int[taps],
                YwLow = new float[taps], YwHigh = new float[taps], XwLow = new float[taps], XwHigh = new float[taps],
            };
            for (int i = 0; i < n; i++)
            {
                int l = (int)levels[i];
                long h = table.Heights[l], w = table.Widths[l];
                float scale = (float)table.Scales[l];
                plan.FirstRow[i] = table.Offsets[l] + i / r * h * w;
                plan.Width[i] = (int)w;
                int at = i * p * s;
                AxisTaps(boxes[4 * i + 1] * scale - 0.5f, boxes[4 * i + 3] * scale - 0.5f, (int)h, p, s,
                    plan.YLow.AsSpan(at, p * s), plan.YHigh.AsSpan(at, p * s), plan.YwLow.AsSpan(at, p * s), plan.YwHigh.AsSpan(at, p * s));
                AxisTaps(boxes[4 * i] * scale - 0.5f, boxes[4 * i + 2] * scale - 0.5f, (int)w, p, s,
                    plan.XLow.AsSpan(at, p * s), plan.XHigh.AsSpan(at, p * s), plan.XwLow.AsSpan(at, p * s), plan.XwHigh.AsSpan(at, p * s));
            }
            return plan;
        }

        /// <summary>One axis of one RoI: neighbours and weights of sample k of bin i, at [i·s + k].</summary>
        private static void AxisTaps(float start, float end, int size, int p, int s, Span<int> low, Span<int> high, Span<float> wLow, Span<float> wHigh)
        {
            float binSize = (end - start) / p;
            for (int i = 0; i < p; i++)
                for (int k = 0; k < s; k++)
                {
                    int t = i * s + k;
                    float at = start + i * binSize + (k + 0.5f) * binSize / s;
                    if (at < -1f || at > size) { low[t] = high[t] = 0; wLow[t] = wHigh[t] = 0; continue; }
                    float clamped = Math.Min(Math.Max(at, 0f), size - 1);
                    int lo = (int)clamped;
                    float fraction = clamped - lo;
                    (low[t], high[t], wLow[t], wHigh[t]) = (lo, Math.Min(lo + 1, size - 1), 1 - fraction, fraction);
                }
        }

        public unsafe void Forward(Tensor rows, Tensor output)
        {
            float* table = Data(rows), result = Data(output);
            if (Known is null || KnownOutput is null) { ForEachRoI(Batch * RoIs, n => ForwardRoI(n, table, result)); return; }
            float* known = Data(KnownOutput);
            long block = (long)Channels * P * P;
            ForEachRoI(Batch * RoIs, n =>
            {
                if (Known[n]) new Span<float>(known + n * block, (int)block).CopyTo(new Span<float>(result + n * block, (int)block));
                else ForwardRoI(n, table, result);
            });
        }

        public unsafe void Backward(Tensor gradOutput, Tensor gradRows)
        {
            float* grad = Data(gradOutput), tableGrad = Data(gradRows);
            // An image's RoIs write only that image's rows, so images run in parallel without races.
            ForEachRoI(Batch, image => { for (long n = image * RoIs; n < (image + 1) * RoIs; n++) BackwardRoI(n, grad, tableGrad); });
        }

        private unsafe void ForwardRoI(long n, float* table, float* result)
        {
            int c = Channels, bins = P * P;
            float count = S * S;
            long first = FirstRow[n], width = Width[n];
            int axis = (int)n * P * S;
            float* acc = stackalloc float[c];
            for (int i = 0; i < P; i++)
                for (int j = 0; j < P; j++)
                {
                    new Span<float>(acc, c).Clear();
                    for (int y = axis + i * S; y < axis + (i + 1) * S; y++)
                    {
                        float* low = table + (first + YLow[y] * width) * c, high = table + (first + YHigh[y] * width) * c;
                        for (int x = axis + j * S; x < axis + (j + 1) * S; x++)
                            AddFourWeighted(acc, low + XLow[x] * c, low + XHigh[x] * c, high + XLow[x] * c, high + XHigh[x] * c,
                                YwLow[y] * XwLow[x], YwLow[y] * XwHigh[x], YwHigh[y] * XwLow[x], YwHigh[y] * XwHigh[x], c);
                    }
                    // The output is [B, R, C, P, P], the layout the box head flattens: channel k of this bin is P² apart.
                    float* bin = result + n * c * bins + i * P + j;
                    for (int k = 0; k < c; k++) bin[k * bins] = acc[k] / count;
                }
        }

        private unsafe void BackwardRoI(long n, float* grad, float* tableGrad)
        {
            int c = Channels, bins = P * P;
            float count = S * S;
            long first = FirstRow[n], width = Width[n];
            int axis = (int)n * P * S;
            float* g = stackalloc float[c];
            for (int i = 0; i < P; i++)
                for (int j = 0; j < P; j++)
                {
                    float* bin = grad + n * c * bins + i * P + j;
                    for (int k = 0; k < c; k++) g[k] = bin[k * bins];
                    for (int y = axis + i * S; y < axis + (i + 1) * S; y++)
                    {
                        float* low = tableGrad + (first + YLow[y] * width) * c, high = tableGrad + (first + YHigh[y] * width) * c;
                        for (int x = axis + j * S; x < axis + (j + 1) * S; x++)
                        {
                            AddWeighted(low + XLow[x] * c, g, YwLow[y] * XwLow[x] / count, c);
                            AddWeighted(low + XHigh[x] * c, g, YwLow[y] * XwHigh[x] / count, c);
                            AddWeighted(high + XLow[x] * c, g, YwHigh[y] * XwLow[x] / count, c);
                            AddWeighted(high + XHigh[x] * c, g, YwHigh[y] * XwHigh[x] / count, c);
                        }
                    }
                }
        }

        /// <summary>acc += wA·a + wB·b + wC·c + wD·d over <paramref name="length"/> floats (the reference's order).</summary>
        private static unsafe void AddFourWeighted(float* acc, float* a, float* b, float* c, float* d, float wA, float wB, float wC, float wD, int length)
        {
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var (va, vb, vc, vd) = (new Vector<float>(wA), new Vector<float>(wB), new Vector<float>(wC), new Vector<float>(wD));
                for (; k <= length - Vector<float>.Count; k += Vector<float>.Count)
                {
                    var sum = va * Vector.Load(a + k) + vb * Vector.Load(b + k) + vc * Vector.Load(c + k) + vd * Vector.Load(d + k);
                    Vector.Store(Vector.Load(acc + k) + sum, acc + k);
                }
            }
            for (; k < length; k++) acc[k] += wA * a[k] + wB * b[k] + wC * c[k] + wD * d[k];
        }

        /// <summary>target += w·source over <paramref name="length"/> floats.</summary>
        private static unsafe void AddWeighted(float* target, float* source, float w, int length)
        {
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var vw = new Vector<float>(w);
                for (; k <= length - Vector<float>.Count; k += Vector<float>.Count)
                    Vector.Store(Vector.Load(target + k) + vw * Vector.Load(source + k), target + k);
            }
            for (; k < length; k++) target[k] += w * source[k];
        }

        /// <summary>The first element of a contiguous float32 CPU tensor (libtorch's memory: nothing to pin).</summary>
        private static unsafe float* Data(Tensor t)
        {
            fixed (byte* first = t.bytes) return (float*)first;
        }

        /// <summary>Runs <paramref name="body"/> for 0 ≤ n &lt; count on libtorch's intra-op thread count.</summary>
        private static void ForEachRoI(long count, Action<long> body)
        {
            int threads = Math.Max(1, get_num_threads());
            if (threads == 1 || count < 2) { for (long n = 0; n < count; n++) body(n); return; }
            Parallel.For(0L, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
        }
    }
}
