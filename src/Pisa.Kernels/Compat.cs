namespace Pisa.Kernels;

/// <summary>
/// Which behaviour a kernel reproduces where the reference implementation has accidents (ALGORITHMS.md, quirks Q1-Q6).
/// </summary>
public enum Compat
{
    /// <summary>Reproduce the reference quirks Q1-Q6 exactly (what conformance cases record).</summary>
    Mmdet,

    /// <summary>Fix every quirk: unused-only fills, per-call sampler behaviour, running gt offsets, exact ranks.</summary>
    Corrected,
}
