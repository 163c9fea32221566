using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels.Host;

/// <summary>The host copy of a padded batch: each image's valid mask, scores and corners, taken in one transfer into a
/// pooled buffer (returned on <see cref="Dispose"/>).</summary>
internal sealed class HostImages : IDisposable
{
    private readonly double[] _data;
    private const int SlotWidth = 6; // valid, score, x1, y1, x2, y2
    private readonly long _slots;

    private HostImages(double[] data, long slots) => (_data, _slots) = (data, slots);

    /// <summary>Copies the mask (as 0/1), the scores (exactly, as float64) and the corners (rounded to float32 first, as
    /// the walk computes in float32) to the host in one transfer: six values per slot, <c>[valid, score, x1, y1, x2, y2]</c>.</summary>
    public static HostImages Copy(Tensor boxes, Tensor scores, Tensor valid)
    {
        using var scope = NewDisposeScope();
        // One cat (it promotes the mask and the float32 corners to the scores' float type), one exact widening to float64.
        var corners = boxes.dtype == float32 ? boxes : boxes.to(float32);
        var packed = cat([valid.unsqueeze(-1), scores.unsqueeze(-1), corners], -1).to(float64);
        var host = ArrayPool<double>.Shared.Rent((int)packed.numel());
        // A span copy of the storage: TensorAccessor's ToArray / CopyTo go element by element, ~15x slower.
        MemoryMarshal.Cast<byte, double>((packed.device_type == DeviceType.CPU ? packed : packed.cpu()).bytes).CopyTo(host); // documented host transfer: once per call
        return new HostImages(host, boxes.shape[1]);
    }

    public void Dispose() => ArrayPool<double>.Shared.Return(_data);

    /// <summary>Image <paramref name="i"/>'s valid slots by descending score, ties to the lower index, NaN first (as torch sorts).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int[] ScoreOrder(int i)
    {
        long start = i * _slots * SlotWidth;
        int count = 0;
        for (int j = 0; j < _slots; j++)
            if (_data[start + j * SlotWidth] != 0) count++;
        var keys = new double[count];
        var order = new int[count];
        for (int j = 0, k = 0; j < _slots; j++)
        {
            if (_data[start + j * SlotWidth] == 0) continue;
            (keys[k], order[k]) = (-_data[start + j * SlotWidth + 1], j);
            k++;
        }
        // Ascending -score puts NaN first, as torch's descending sort does; the stable sort keeps ties in slot order.
        StableSortByKey(keys, order);
        return order;
    }

    /// <summary>The corners of image <paramref name="i"/>'s <paramref name="slots"/>, in that order, 4 float32 per box.</summary>
    public float[] Corners(int i, int[] slots)
    {
        long boxStart = i * _slots * SlotWidth + 2;
        var corners = new float[slots.Length * 4];
        for (int k = 0; k < slots.Length; k++)
            for (int c = 0; c < 4; c++) corners[k * 4 + c] = (float)_data[boxStart + slots[k] * SlotWidth + c];
        return corners;
    }

    /// <summary>
    /// Sorts <paramref name="items"/> by ascending <paramref name="keys"/> (NaN first), keeping equal keys in their order: a
    /// bottom-up merge sort. Hand-written rather than <c>Array.Sort(keys, items)</c> (unstable, and a generic instantiation
    /// that runs unoptimised tier-0 code for a benchmark's or a training run's first steps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StableSortByKey(double[] keys, int[] items)
    {
        int n = keys.Length;
        var (keyBuffer, itemBuffer) = (new double[n], new int[n]);
        var (fromKeys, fromItems, toKeys, toItems) = (keys, items, keyBuffer, itemBuffer);
        for (int width = 1; width < n; width *= 2)
        {
            for (int start = 0; start < n; start += 2 * width)
            {
                int middle = Math.Min(start + width, n), end = Math.Min(start + 2 * width, n);
                int left = start, right = middle;
                for (int k = start; k < end; k++)
                {
                    // The right run's head goes first only when strictly before the left's: that keeps the sort stable.
                    bool takeRight = left == middle || (right < end && Before(fromKeys[right], fromKeys[left]));
                    int from = takeRight ? right++ : left++;
                    (toKeys[k], toItems[k]) = (fromKeys[from], fromItems[from]);
                }
            }
            (fromKeys, fromItems, toKeys, toItems) = (toKeys, toItems, fromKeys, fromItems);
        }
        if (fromKeys != keys)
        {
            Array.Copy(fromKeys, keys, n);
            Array.Copy(fromItems, items, n);
        }
    }

    /// <summary>Strictly before in ascending order with NaN first (equal keys and two NaNs are not).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(double a, double b) => double.IsNaN(a) ? !double.IsNaN(b) : a < b;
}
