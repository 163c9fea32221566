namespace Pisa.Kernels;

/// <summary>
/// Which behaviour a kernel reproduces where the reference implementation has accidents (ALGORITHMS.md, quirks Q1-Q6).
/// The members and their order are the recipe's <c>compat:</c> names (<c>Pisa.Recipes.CompatMode</c>), default first.
/// </summary>
public enum Compat
{
    /// <summary>Fix every quirk: unused-only fills, per-call sampler behaviour, running gt offsets, exact ranks.</summary>
    Corrected,

    /// <summary>Reproduce the reference quirks Q1-Q6 exactly (what conformance cases record).</summary>
    Mmdet,
}
