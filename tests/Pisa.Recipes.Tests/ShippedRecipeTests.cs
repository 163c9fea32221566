using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>The shipped recipes check clean, carry the published configs' values, and their resolved forms are stable.</summary>
public class ShippedRecipeTests
{
    [Theory]
    [MemberData(nameof(TestRecipes.Shipped), MemberType = typeof(TestRecipes))]
    public void A_shipped_recipe_checks_clean(string name)
    {
        RecipeLoadResult result = TestRecipes.LoadShipped(name);
        Assert.Empty(result.Diagnostics);
        Assert.NotEmpty(result.Pipelines);
    }

    [Theory]
    [MemberData(nameof(TestRecipes.Shipped), MemberType = typeof(TestRecipes))]
    public void A_shipped_recipe_names_its_schema_and_mirrors_with_mmdet_compat(string name)
    {
        string[] lines = File.ReadAllLines(TestRecipes.PathOf(name));
        Assert.Equal("# yaml-language-server: $schema=../schemas/recipe.schema.json", lines[0]);
        Assert.Equal(CompatMode.Mmdet, TestRecipes.Valid(TestRecipes.LoadShipped(name)).Compat);
    }

    [Fact]
    public void The_folder_holds_exactly_the_shipped_recipes()
    {
        var files = Directory.GetFiles(TestRecipes.Folder, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(TestRecipes.ShippedNames.Order(StringComparer.Ordinal), files);
    }

    [Fact]
    public void Faster_rcnn_is_the_random_sampling_baseline()
    {
        // configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py: MaxIoUAssigner 0.5/0.5/0.5 without low-quality matches,
        // RandomSampler num=512 pos_fraction=0.25 neg_pos_ub=-1 add_gt_as_proposals=True, CrossEntropyLoss + L1Loss.
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn"));
        Assert.Equal(new AssignSettings(0.5, 0.5, 0.5, false), r.Assign);
        Assert.Equal(new SampleSettings(512, 0.25, -1, true, PositiveSamplerKind.Random, new NegativeSampler(NegativeSamplerKind.Random, null, null, null)), r.Sample);
        Assert.Equal(new ClassificationLoss(ClassificationLossKind.CrossEntropy, 1, null, null), r.Loss.Cls);
        Assert.Equal(new BoxLoss(BoxLossKind.L1, 1, null, null), r.Loss.Box);
        Assert.Null(r.Loss.Carl);
        Assert.Equal("PisaFasterRcnn", RecipeNames.TypeName("pisa-faster-rcnn"));
        Assert.Equal("FasterRcnn", r.TypeName);
    }

    [Fact]
    public void Libra_balances_positives_by_instance_and_negatives_by_iou()
    {
        // libra_faster_rcnn_r50_fpn_1x_coco.py: InstanceBalancedPosSampler, IoUBalancedNegSampler(floor_thr=-1,
        // floor_fraction=0, num_bins=3), BalancedL1Loss(alpha=0.5, gamma=1.5, beta=1.0).
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("libra-faster-rcnn"));
        Assert.Equal(PositiveSamplerKind.InstanceBalanced, r.Sample!.Positives);
        Assert.Equal(new NegativeSampler(NegativeSamplerKind.IoUBalanced, new IoUBalancedOptions(-1, 0, 3), null, null), r.Sample.Negatives);
        Assert.Equal(new BoxLoss(BoxLossKind.BalancedL1, 1, 1, new BalancedL1Options(0.5, 1.5)), r.Loss.Box);
        Assert.Equal(["libra-faster-rcnn", "faster-rcnn"], r.BaseChain);
    }

    [Fact]
    public void Pisa_faster_rcnn_has_the_published_hyper_parameters()
    {
        // pisa_faster_rcnn_r50_fpn_1x_coco.py: ScoreHLRSampler k=0.5 bias=0 (score_thr 0.05, iou_thr 0.5 by default),
        // isr k=2 bias=0, carl k=1 bias=0.2, SmoothL1Loss beta=1.0, 2000 proposals in training and testing.
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("pisa-faster-rcnn"));
        Assert.Equal(new NegativeSampler(NegativeSamplerKind.ScoreHlr, null, new ScoreHlrOptions(0.05, 0.5), new ReweightSettings(0.5, 0)), r.Sample!.Negatives);
        Assert.Equal(new RankSettings(PositiveRankKind.IoUHlr, NegativeRankKind.ScoreHlr, new ScoreHlrOptions(0.05, 0.5)), r.Rank);
        Assert.Equal(new ReweightSettings(2, 0), r.Loss.Cls.Isr);
        Assert.Equal(new ReweightSettings(1, 0.2), r.Loss.Carl);
        Assert.Equal(new BoxLoss(BoxLossKind.SmoothL1, 1, 1, null), r.Loss.Box);
        Assert.Equal(new RpnSettings(2000, 2000), r.Rpn);
    }

    [Fact]
    public void Ohem_samples_both_sides_by_loss()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("ohem-faster-rcnn"));
        Assert.Equal((PositiveSamplerKind.Ohem, NegativeSamplerKind.Ohem), (r.Sample!.Positives, r.Sample.Negatives.Type));
    }

    [Fact]
    public void Retinanet_uses_every_anchor_with_focal_loss()
    {
        // retinanet_r50_fpn_1x_coco.py: MaxIoUAssigner(0.5, 0.4, min_pos_iou=0) with the assigner's default
        // match_low_quality=True, PseudoSampler, FocalLoss(gamma=2.0, alpha=0.25), L1Loss.
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("retinanet"));
        Assert.Equal(DetectorKind.SingleStage, r.Detector);
        Assert.Null(r.Sample);
        Assert.Null(r.Rpn);
        Assert.Equal(new AssignSettings(0.5, 0.4, 0, true), r.Assign);
        Assert.Equal(new ClassificationLoss(ClassificationLossKind.Focal, 1, new FocalOptions(2, 0.25), null), r.Loss.Cls);
    }

    [Fact]
    public void Pisa_retinanet_adds_isr_carl_and_a_small_beta()
    {
        // pisa_retinanet_r50_fpn_1x_coco.py: isr k=2 bias=0, carl k=1 bias=0.2, SmoothL1Loss beta=0.11.
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("pisa-retinanet"));
        Assert.Equal(new ReweightSettings(2, 0), r.Loss.Cls.Isr);
        Assert.Equal(new ReweightSettings(1, 0.2), r.Loss.Carl);
        Assert.Equal(new BoxLoss(BoxLossKind.SmoothL1, 1, 0.11, null), r.Loss.Box);
        Assert.Equal(ClassificationLossKind.Focal, r.Loss.Cls.Type);
    }

    [Theory]
    [MemberData(nameof(TestRecipes.Shipped), MemberType = typeof(TestRecipes))]
    public void Resolved_form_is_stable(string name)
    {
        Snapshot.Verify(ResolvedRecipeWriter.Write(TestRecipes.Valid(TestRecipes.LoadShipped(name))), name, "yaml");
    }

    public static TheoryData<string, string> VariantPoints()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in TestRecipes.ShippedNames)
            foreach (Recipe point in TestRecipes.LoadShipped(name).Points) data.Add(name, point.TypeName);
        return data;
    }

    [Theory]
    [MemberData(nameof(VariantPoints))]
    public void Resolved_form_of_each_variant_point_is_stable(string name, string point)
    {
        RecipeLoadResult result = TestRecipes.LoadShipped(name);
        Snapshot.Verify(ResolvedRecipeWriter.Write(result.Points.Single(p => p.TypeName == point)), point, "yaml");
    }

    [Theory]
    [MemberData(nameof(TestRecipes.Shipped), MemberType = typeof(TestRecipes))]
    public void The_resolved_form_reads_back_as_the_same_recipe(string name)
    {
        RecipeLoadResult result = TestRecipes.LoadShipped(name);
        foreach (Recipe recipe in result.Points.Prepend(result.Recipe!))
        {
            RecipeLoadResult again = new RecipeLoader().LoadText(ResolvedRecipeWriter.Write(recipe), TestRecipes.PathOf(recipe.Name));
            Recipe reread = TestRecipes.Valid(again);
            Assert.Equal(recipe with { BaseChain = reread.BaseChain, Variant = null }, reread);
        }
    }

    [Fact]
    public void Every_default_lives_in_the_key_table_and_makes_a_valid_recipe()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadText("recipe: defaults-only\ndetector: two-stage\n"));
        Snapshot.Verify(ResolvedRecipeWriter.Write(r), "two-stage", "yaml");
        Assert.Equal(CompatMode.Corrected, r.Compat);
    }

    [Fact]
    public void The_stage_graph_reads_in_training_order()
    {
        Snapshot.Verify(string.Join("\n", TestRecipes.ShippedNames.SelectMany(n => StageGraph.Describe(TestRecipes.Valid(TestRecipes.LoadShipped(n))))), null, "txt");
    }
}
