using Pisa.Cli.Bench;

namespace Pisa.Cli.Tests;

/// <summary>
/// <c>pisa bench kernels</c>'s operation counts (<c>OpCount</c>): the fused sampling stage of WORKLOAD.md dispatches a fixed
/// number of tensor operations, whatever the number of gts, and no more than its ceiling.
/// </summary>
public class KernelOperationCountTests
{
    /// <summary>The stage's operations at G50: 457 after the fusing round (681 before it); the goal is 200.</summary>
    private const long StageCeiling = 460;

    private static Workload Generated(int gts) => Workload.Generate(seed: gts, images: 2, gtsPerImage: gts, proposalsPerImage: 2000);

    [Fact]
    public void The_stage_at_G50_dispatches_no_more_than_its_ceiling()
    {
        var ops = KernelBench.CountOps(Generated(50));
        Assert.True(ops.Total <= StageCeiling, $"the stage dispatches {ops.Total} tensor operations at G50, above its ceiling {StageCeiling}: {ops}");
        Assert.Equal(ops.Total, ops.Assign + ops.Libra + ops.ScoreHlr + ops.IsrP + ops.Carl);
    }

    [Fact]
    public void The_stage_dispatches_as_many_operations_at_G5_as_at_G50()
    {
        // No loop over gts, classes or groups in tensor code: the op count is a property of the stage, not of its input.
        Assert.Equal(KernelBench.CountOps(Generated(50)), KernelBench.CountOps(Generated(5)));
        Assert.Equal(KernelBench.CountStepOps(Generated(50)) with { GtsPerImage = 0 }, KernelBench.CountStepOps(Generated(5)) with { GtsPerImage = 0 });
    }
}
