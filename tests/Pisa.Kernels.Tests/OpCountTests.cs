using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary><see cref="OpCount"/> counts the tensors an op creates: one per output, views too; in-place ops create none.</summary>
public class OpCountTests
{
    [Fact]
    public void Each_new_tensor_counts_one()
    {
        var a = ones(3);
        Assert.Equal(2, OpCount.Of(() => (a + a).sum()));
        Assert.Equal(1, OpCount.Of(() => a.unsqueeze(0)));
        Assert.Equal(2, OpCount.Of(() => a.max(0)));
    }

    [Fact]
    public void An_in_place_op_creates_no_tensor()
    {
        var a = ones(3);
        Assert.Equal(0, OpCount.Of(() => a.add_(1).mul_(2)));
    }
}
