using System.Collections.Concurrent;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Kernels;

/// <summary>
/// Constant tensors the kernels need on every call (a coder's stds, index ranges), made once per device and dtype and
/// then reused, so a step does not dispatch an op to rebuild them. They live outside every dispose scope; callers only
/// read them (never modify one in place). The cache is bounded: past <see cref="Capacity"/> entries it starts over.
/// </summary>
internal static class Constants
{
    private const int Capacity = 256;
    private static readonly ConcurrentDictionary<(string Name, ScalarType Type, DeviceType Device, int Index), Tensor> Cache = new();

    /// <summary>The constant called <paramref name="name"/> of this dtype on this device, made by <paramref name="make"/> the first time.</summary>
    public static Tensor Of(string name, ScalarType dtype, Device device, Func<Tensor> make)
    {
        var key = (name, dtype, device.type, device.index);
        if (Cache.TryGetValue(key, out var cached)) return cached;
        if (Cache.Count >= Capacity) Cache.Clear();
        return Cache.GetOrAdd(key, _ => make().DetachFromDisposeScope());
    }

    /// <summary><c>[0, 1, ..., n - 1]</c> as int64.</summary>
    public static Tensor Range(long n, Device device) =>
        Of("range:" + n.ToString(CultureInfo.InvariantCulture), ScalarType.Int64, device, () => arange(n, ScalarType.Int64, device));

    /// <summary>A vector of values of this dtype on this device.</summary>
    public static Tensor Vector(double[] values, ScalarType dtype, Device device) =>
        Of("vector:" + string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))), dtype, device, () => tensor(values, dtype, device));
}
