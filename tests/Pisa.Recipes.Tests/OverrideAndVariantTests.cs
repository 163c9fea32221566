using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>--set overrides, base inheritance and variants go through the one validator.</summary>
public class OverrideAndVariantTests
{
    [Fact]
    public void An_override_replaces_a_value_and_can_turn_a_stage_off()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("pisa-faster-rcnn", "loss.carl.k=2", "loss.cls.isr=null"));
        Assert.Equal(new ReweightSettings(2, 0.2), r.Loss.Carl);
        Assert.Null(r.Loss.Cls.Isr);
    }

    [Fact]
    public void An_override_turns_on_an_optional_stage_with_its_defaults()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn", "loss.carl.bias=0.3"));
        Assert.Equal(new ReweightSettings(1, 0.3), r.Loss.Carl); // k's default, 1, comes from the key table
    }

    [Fact]
    public void An_override_value_is_yaml_so_lists_and_mappings_work()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn", "train.lr_steps=[4, 6]", "loss.carl={ k: 2, bias: 0 }"));
        Assert.Equal([4, 6], r.Train.LrSteps);
        Assert.Equal(new ReweightSettings(2, 0), r.Loss.Carl);
    }

    [Fact]
    public void The_model_section_defaults_to_the_small_backbone_and_reads_a_resnet()
    {
        Assert.Equal(new ModelSettings(BackboneKind.Small, null, 1, true), TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn")).Model);
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("retinanet", "model.backbone=resnet50", "model.pretrained=weights/r50.pth", "model.frozen_stages=-1", "model.norm_eval=false"));
        Assert.Equal(new ModelSettings(BackboneKind.Resnet50, "weights/r50.pth", -1, false), r.Model);
    }

    [Fact]
    public void A_bad_override_is_located_at_the_override()
    {
        RecipeLoadResult result = TestRecipes.LoadShipped("pisa-faster-rcnn", "loss.carl.k=-1");
        Assert.Equal("--set loss.carl.k=-1: error PISA0006: 'loss.carl.k' is -1: it must be >= 0", Assert.Single(result.Diagnostics).ToString());
    }

    [Theory]
    [InlineData("loss.carl.kk=1", "PISA0004", "did you mean 'k'?")]
    [InlineData("foo", "PISA0019", "got 'foo'")]
    [InlineData("=3", "PISA0019", "got '=3'")]
    [InlineData("sample.num=[1", "PISA0001", "YAML syntax error")]
    [InlineData("sample.num=many", "PISA0005", "must be a whole number")]
    [InlineData("model.backbone=resnet19", "PISA0007", "did you mean 'resnet18'?")]
    [InlineData("model.frozen_stages=5", "PISA0006", "'model.frozen_stages' is 5")]
    [InlineData("model.norm_evl=false", "PISA0004", "did you mean 'norm_eval'?")]
    public void Override_errors_name_the_override(string setting, string id, string fragment)
    {
        DiagnosticInfo error = Assert.Single(TestRecipes.LoadShipped("faster-rcnn", setting).Diagnostics);
        Assert.Equal((id, "--set " + setting), (error.Id, error.Span.Path));
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void Changing_a_stage_type_drops_the_old_type_options_but_keeps_the_stage_rules()
    {
        // pisa's score_hlr negatives carry score_thr, iou_thr, k and bias; random negatives have none of them, and no
        // Score-HLR rank is left to disagree with the sampler: it follows from it.
        RecipeLoadResult pisa = TestRecipes.LoadShipped("pisa-faster-rcnn", "sample.negatives.type=random");
        Assert.Empty(pisa.Diagnostics);
        Assert.Equal(new RankSettings(PositiveRankKind.IoUHlr, NegativeRankKind.None, null), pisa.Recipe!.Rank);
        // A stage rule still holds after the change: ohem on one side only.
        Assert.Equal("PISA0017", Assert.Single(TestRecipes.LoadShipped("pisa-faster-rcnn", "sample.negatives.type=ohem").Diagnostics).Id);
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("libra-faster-rcnn", "sample.negatives.type=random"));
        Assert.Equal(new NegativeSampler(NegativeSamplerKind.Random, null, null, null), r.Sample!.Negatives);
    }

    [Fact]
    public void An_old_recipe_with_a_rank_section_loads_as_the_new_one_with_a_warning_at_each_rank_key()
    {
        // pisa-faster-rcnn as it was written before ranks were implied by the stages they serve.
        const string old = """
            recipe: pisa-faster-rcnn
            base: faster-rcnn
            rpn: { train_proposals: 2000, test_proposals: 2000 }
            sample:
              negatives: { type: score_hlr, k: 0.5, bias: 0 }
            rank:
              positives: { type: iou_hlr }
              negatives: { type: score_hlr, score_thr: 0.05, iou_thr: 0.5 }
            loss:
              cls: { type: cross_entropy, isr: { k: 2, bias: 0 } }
              box: { type: smooth_l1, beta: 1.0 }
              carl: { k: 1, bias: 0.2 }
            """;
        RecipeLoadResult result = TestRecipes.LoadText(old);
        Assert.Equal(TestRecipes.Valid(TestRecipes.LoadShipped("pisa-faster-rcnn")), TestRecipes.Valid(result));
        Assert.Equal(
            [("rank.negatives.iou_thr", 8), ("rank.negatives.score_thr", 8), ("rank.negatives.type", 8), ("rank.positives.type", 7)],
            result.Diagnostics.Select(d => (d.Arguments[0], d.Span.Line)).OrderBy(x => x.Item1, StringComparer.Ordinal));
        Assert.All(result.Diagnostics, d => Assert.Equal(("PISA0030", DiagnosticSeverity.Warning), (d.Id, d.Severity)));
    }

    [Fact]
    public void An_old_rank_override_sets_the_sampler_threshold_with_a_warning_naming_the_override()
    {
        RecipeLoadResult result = TestRecipes.LoadShipped("pisa-faster-rcnn", "rank.negatives.score_thr=0.1");
        Assert.Equal(new ScoreHlrOptions(0.1, 0.5), TestRecipes.Valid(result).Sample!.Negatives.ScoreHlr);
        DiagnosticInfo warning = Assert.Single(result.Diagnostics);
        Assert.Equal("--set rank.negatives.score_thr=0.1: warning PISA0030: 'rank.negatives.score_thr' is deprecated: write sample.negatives.score_thr instead (this value is read from there)", warning.ToString());
    }

    [Fact]
    public void A_derived_recipe_overrides_its_base_and_inherits_the_rest()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadText("recipe: my-libra\nbase: libra-faster-rcnn\nsample: { negatives: { num_bins: 5 } }\n"));
        Assert.Equal(new IoUBalancedOptions(-1, 0, 3 + 2), r.Sample!.Negatives.IoUBalanced);
        Assert.Equal(["my-libra", "libra-faster-rcnn", "faster-rcnn"], r.BaseChain);
        Assert.Equal(CompatMode.Mmdet, r.Compat); // from faster-rcnn, two bases up
    }

    [Fact]
    public void The_sweep_expands_to_the_cross_product_with_readable_names()
    {
        RecipeLoadResult result = TestRecipes.LoadShipped("pisa-sweep");
        Assert.Equal(
            ["PisaSweep_IsrK1_CarlBias0", "PisaSweep_IsrK1_CarlBias0p2", "PisaSweep_IsrK2_CarlBias0", "PisaSweep_IsrK2_CarlBias0p2"],
            result.Points.Select(p => p.TypeName));
        Recipe point = result.Points[1];
        Assert.Equal((1.0, 0.2), (point.Loss.Cls.Isr!.K, point.Loss.Carl!.Bias));
        Assert.Empty(point.Variants);
        Assert.Equal(2, result.Recipe!.Variants.Count);
    }

    [Theory]
    [InlineData("PisaSweep_IsrK2_CarlBias0")]
    [InlineData("pisasweep_isrk2_carlbias0")]
    [InlineData("IsrK2_CarlBias0")]
    public void A_point_is_picked_by_its_name_or_its_suffix(string name)
    {
        Recipe? point = TestRecipes.LoadShipped("pisa-sweep").SelectVariant(name, out DiagnosticInfo? error);
        Assert.Null(error);
        Assert.Equal(("PisaSweep_IsrK2_CarlBias0", 2.0, 0.0), (point!.TypeName, point.Loss.Cls.Isr!.K, point.Loss.Carl!.Bias));
    }

    [Fact]
    public void An_unknown_point_name_suggests_the_nearest()
    {
        Assert.Null(TestRecipes.LoadShipped("pisa-sweep").SelectVariant("IsrK2_CarlBias0p3", out DiagnosticInfo? error));
        Assert.Equal("PISA0021", error!.Id);
        Assert.Contains("did you mean 'PisaSweep_IsrK2_CarlBias0p2'?", error.Message);
    }

    [Fact]
    public void Point_values_win_over_overrides_so_names_stay_true()
    {
        RecipeLoadResult result = TestRecipes.LoadShipped("pisa-sweep", "loss.carl.bias=0.5", "loss.carl.k=3");
        Recipe point = result.Points.Single(p => p.TypeName == "PisaSweep_IsrK1_CarlBias0");
        Assert.Equal(new ReweightSettings(3, 0), point.Loss.Carl);
    }

    [Fact]
    public void Negative_and_tiny_values_and_clashing_labels_make_distinct_names()
    {
        RecipeLoadResult result = TestRecipes.LoadText(
            "recipe: names\nbase: faster-rcnn\nvariants:\n  sample.neg_pos_ub: [-1, 3]\n  train.lr: [0.00001]\n  sample.positives.type: [random]\n  rank.positives.type: [none]\n");
        // Labels are the last two key segments (sample.neg_pos_ub → SampleNegPosUb, train.lr → TrainLr); -1 → m1,
        // 0.00001 → 1e-05 → 1em05. The deprecated rank.positives.type axis varies nothing: dropped, with a warning at its key.
        Assert.Equal(
            ["Names_SampleNegPosUbm1_TrainLr1em05_PositivesTypeRandom",
             "Names_SampleNegPosUb3_TrainLr1em05_PositivesTypeRandom"],
            result.Points.Select(p => p.TypeName));
        DiagnosticInfo warning = Assert.Single(result.Diagnostics);
        Assert.Equal(("PISA0030", 7, 3), (warning.Id, warning.Span.Line, warning.Span.Column));
    }

    [Fact]
    public void Values_written_differently_but_equal_are_one_name_twice()
    {
        RecipeLoadResult result = TestRecipes.LoadText("recipe: same\nbase: pisa-faster-rcnn\nvariants:\n  loss.carl.k: [1, 1.0]\n");
        Assert.Equal("PISA0020", Assert.Single(TestRecipes.Errors(result)).Id);
    }

    [Fact]
    public void Loading_twice_gives_equal_models()
    {
        Assert.Equal(TestRecipes.LoadShipped("pisa-sweep"), TestRecipes.LoadShipped("pisa-sweep"));
        Assert.Equal(TestRecipes.LoadShipped("pisa-sweep").GetHashCode(), TestRecipes.LoadShipped("pisa-sweep").GetHashCode());
    }
}
