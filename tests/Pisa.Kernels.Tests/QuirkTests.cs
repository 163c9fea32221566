using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>Quirks whose effect is not a fixed number for a case file: Q1 under mmdet and Q3.</summary>
public class QuirkTests
{
    [Fact]
    public void Q1_mmdet_tops_up_from_all_positives_so_sometimes_fewer_than_the_budget_come_out()
    {
        // gt 1 has 6 positives, gt 2 one; budget 6: per_gt = round(6/2) + 1 = 4 -> 4 + 1 = 5, one short. mmdet draws the one extra
        // from all 7 positives: 5 of them are already chosen (then 5 come out), 2 are not (then 6). Corrected always gives 6.
        var gtInds = tensor(new long[] { 1, 1, 1, 1, 1, 1, 2 }).unsqueeze(0);
        var mmdetCounts = Enumerable.Range(0, 40)
            .Select(seed => Sample.InstanceBalancedPositives(gtInds, 6, Compat.Mmdet, new Generator((ulong)seed)).sum().item<long>()).ToHashSet();
        Assert.Equal(new HashSet<long> { 5, 6 }, mmdetCounts);
        for (ulong seed = 0; seed < 10; seed++)
            Assert.Equal(6, Sample.InstanceBalancedPositives(gtInds, 6, Compat.Corrected, new Generator(seed)).sum().item<long>());
    }

    [Fact]
    public void Q3_mmdet_offsets_gt_ids_by_the_previous_images_largest_positive_gt_not_a_running_total()
    {
        // Image 0: positives of gts 1 and 2 (0-based 0, 1); image 1: gt 1 (0-based 0); image 2: gt 2 (0-based 1). gt counts 3, 2, 2.
        var gtInds = tensor(new long[] { 1, 2, 0, 1, 0, -1, 0, 2, 0 }, [3, 3]);
        var gtCount = tensor(new long[] { 3, 2, 2 });
        // mmdet: offsets 0; max(0,1) + 1 = 2; max(0) + 1 = 1 -> image 2's gt 1 becomes 1 + 1 = 2, colliding with image 1's gt (0 + 2).
        Assert.Equal(new long[] { 0, 1, -1, 2, -1, -1, -1, 2, -1 }, Reweight.BatchGtIds(gtInds, gtCount, Compat.Mmdet).flatten().data<long>().ToArray());
        // corrected: running offsets 0, 3, 5 -> 0, 1 | 3 | 6: unique.
        Assert.Equal(new long[] { 0, 1, -1, 3, -1, -1, -1, 6, -1 }, Reweight.BatchGtIds(gtInds, gtCount, Compat.Corrected).flatten().data<long>().ToArray());
    }

    [Fact]
    public void Q3_mmdet_keeps_the_last_offset_across_an_image_without_positives()
    {
        // Image 0: gt 3 (0-based 2); image 1: no positives; image 2: gt 1. Offsets: 0, 3, 3 (image 1 leaves it unchanged).
        var gtInds = tensor(new long[] { 3, 0, 0, 0, 1, 0 }, [3, 2]);
        Assert.Equal(new long[] { 2, -1, -1, -1, 3, -1 }, Reweight.BatchGtIds(gtInds, tensor(new long[] { 3, 1, 1 }), Compat.Mmdet).flatten().data<long>().ToArray());
    }
}
