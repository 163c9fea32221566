using System.Text.RegularExpressions;

namespace Pisa.Testing;

/// <summary>Calls that synchronise the host with the device: none may appear on the per-step path (DEVELOPERS.md).</summary>
public static partial class HostSync
{
    [GeneratedRegex(@"\.item\b|\.item<|\.cpu\(\)|\.data<|\.bytes\b|\.ToArray\(\)|\.ToSingle\(\)|\.ToDouble\(\)|\.ToInt64\(\)|\.ToInt32\(\)|\.ToBoolean\(\)|\.ToScalar\(\)|\.tolist\(|\.numpy\(")]
    public static partial Regex Call();
}
