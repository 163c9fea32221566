using Pisa.Cli.Bench;

namespace Pisa.Cli.Tests;

/// <summary><c>pisa bench kernels</c> reads the reference's published stage times from the WORKLOAD.md beside the workload.</summary>
public class ReferenceTimesTests
{
    [Fact]
    public void The_shared_workload_table_gives_the_total_per_gt_count()
    {
        var rows = ReferenceTimes.Read(RepoPaths.InShared("bench", "coco_like_g15_seed0.json"));
        // WORKLOAD.md, "What the reference implementation takes": the last column of the rows for 5, 15 and 50 gts.
        Assert.Equal([new ReferenceTime(5, 22.8), new ReferenceTime(15, 30.3), new ReferenceTime(50, 38.3)], rows);
    }

    [Fact]
    public void A_workload_without_a_WORKLOAD_md_beside_it_has_no_reference_times()
    {
        string folder = Directory.CreateTempSubdirectory("pisa-bench-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "w.json"), "{}");
            Assert.Empty(ReferenceTimes.Read(Path.Combine(folder, "w.json")));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
