using TorchSharp;

namespace Pisa.Kernels;

/// <summary>
/// Counts the tensor operations the calling thread dispatches to libtorch. Every TorchSharp call that runs a libtorch op
/// and returns a tensor wraps the op's new native tensor in a new managed <c>Tensor</c>, and TorchSharp counts each
/// such wrapper per thread (<c>DisposeScopeManager.Statistics</c>, inside and outside dispose scopes alike): views,
/// reductions, creations (<c>arange</c>, a host array's <c>tensor</c>) and each output of a multi-output op
/// (<c>max</c>, <c>sort</c>) count one each. An in-place op (<c>add_</c>, <c>masked_fill_</c>) returns its receiver and
/// creates nothing, so it is not counted: the count is a lower bound of dispatcher calls and an exact count of the
/// tensors libtorch allocated (or aliased) for the caller, which on a GPU is about one kernel launch each.
/// </summary>
public static class OpCount
{
    /// <summary>Tensors created on this thread so far.</summary>
    public static long Created
    {
        get
        {
            var statistics = DisposeScopeManager.Statistics.TensorStatistics;
            return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
        }
    }

    /// <summary>The operations <paramref name="run"/> dispatches on this thread.</summary>
    public static long Of(Action run)
    {
        long before = Created;
        run();
        return Created - before;
    }
}
