using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>The attribute front door reads into the same model, through the same rules, as YAML.</summary>
public class AttributeTests
{
    [Recipe("pisa-faster-rcnn", Base = "faster-rcnn", Compat = CompatMode.Mmdet)]
    [Rpn(TrainProposals = 2000, TestProposals = 2000)]
    [NegativeSampler(NegativeSamplerKind.ScoreHlr, ScoreThr = 0.05, IoUThr = 0.5, K = 0.5, Bias = 0)]
    [ClassificationLoss(ClassificationLossKind.CrossEntropy)]
    [Isr(K = 2, Bias = 0)]
    [BoxLoss(BoxLossKind.SmoothL1, Beta = 1.0)]
    [Carl(K = 1, Bias = 0.2)]
    private sealed class AttributedPisaFasterRcnn;

    [Recipe("pisa-sweep", Base = "pisa-faster-rcnn")]
    [Variant("loss.cls.isr.k", 1, 2)]
    [Variant("loss.carl.bias", 0, 0.2)]
    private sealed class AttributedSweep;

    [Recipe("bad-carl", Base = "faster-rcnn")]
    [Carl(K = -1)]
    private sealed class AttributedBadCarl;

    [Recipe("full", Detector = DetectorKind.TwoStage)]
    [Assign(PosIoU = 0.6, NegIoU = 0.4, MinPosIoU = 0.3, MatchLowQuality = true)]
    [Sample(Num = 256, PosFraction = 0.5, NegPosUb = 3, AddGtAsProposals = false)]
    [PositiveSampler(PositiveSamplerKind.InstanceBalanced)]
    [NegativeSampler(NegativeSamplerKind.IoUBalanced, FloorThr = 0, FloorFraction = 0.5, NumBins = 2)]
    [ClassificationLoss(ClassificationLossKind.CrossEntropy, LossWeight = 2)]
    [BoxLoss(BoxLossKind.BalancedL1, Alpha = 0.4, Gamma = 1.2, Beta = 0.8, LossWeight = 0.5)]
    [Train(Data = "data/coco", Epochs = 3, Batch = 2, Lr = 0.005, Momentum = 0.8, WeightDecay = 0.001, WarmupIters = 10,
        WarmupRatio = 0.01, Schedule = LrSchedule.Cosine, LrSteps = [1, 2], ImageSize = 64, Seed = 7)]
    private sealed class AttributedEverything;

#pragma warning disable CS0618 // the old Iou spellings, on purpose
    [Recipe("full", Detector = DetectorKind.TwoStage)]
    [Assign(PosIou = 0.6, NegIou = 0.4, MinPosIou = 0.3, MatchLowQuality = true)]
    [NegativeSampler(NegativeSamplerKind.IouBalanced, FloorThr = 0, FloorFraction = 0.5, NumBins = 2)]
    private sealed class AttributedOldSpelling;
#pragma warning restore CS0618

    [Recipe("focal-head", Detector = DetectorKind.SingleStage)]
    [ClassificationLoss(ClassificationLossKind.Focal, Gamma = 1.5, Alpha = 0.5, LossWeight = 2)]
    private sealed class AttributedFocal;

    [Recipe("old-pisa", Base = "faster-rcnn")]
    [NegativeSampler(NegativeSamplerKind.ScoreHlr)]
    [NegativeRank(NegativeRankKind.ScoreHlr, ScoreThr = 0.1, IoUThr = 0.6)]
    private sealed class AttributedOldRank;

    [Fact]
    public void An_attributed_class_equals_the_yaml_recipe()
    {
        Recipe fromAttributes = TestRecipes.Valid(RecipeAttributeMap.Read(typeof(AttributedPisaFasterRcnn), TestRecipes.Folder));
        Assert.Equal(TestRecipes.Valid(TestRecipes.LoadShipped("pisa-faster-rcnn")), fromAttributes);
    }

    [Fact]
    public void Attributed_variants_make_the_same_points_as_yaml()
    {
        RecipeLoadResult fromAttributes = RecipeAttributeMap.Read(typeof(AttributedSweep), TestRecipes.Folder);
        Assert.Equal(TestRecipes.LoadShipped("pisa-sweep").Points, fromAttributes.Points);
    }

    [Fact]
    public void Attribute_errors_are_the_yaml_rules_located_at_the_attribute()
    {
        RecipeLoadResult result = RecipeAttributeMap.Read(typeof(AttributedBadCarl), TestRecipes.Folder);
        string type = typeof(AttributedBadCarl).FullName!;
        Assert.Equal(
            [$"{type} [Carl]: error PISA0006: 'loss.carl.k' is -1: it must be >= 0"],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void The_deprecated_rank_attribute_still_sets_the_score_hlr_thresholds_with_a_warning_at_the_attribute()
    {
        RecipeLoadResult result = RecipeAttributeMap.Read(typeof(AttributedOldRank), TestRecipes.Folder);
        Recipe r = TestRecipes.Valid(result);
        Assert.Equal(new ScoreHlrOptions(0.1, 0.6), r.Sample!.Negatives.ScoreHlr);
        Assert.Equal(3, result.Diagnostics.Count(d => d.Id == "PISA0030" && d.Span.Path.EndsWith("[NegativeRank]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_attribute_property_sets_its_key()
    {
        Recipe r = TestRecipes.Valid(RecipeAttributeMap.Read(typeof(AttributedEverything), TestRecipes.Folder));
        Assert.Equal(new AssignSettings(0.6, 0.4, 0.3, true), r.Assign);
        Assert.Equal(new SampleSettings(256, 0.5, 3, false, PositiveSamplerKind.InstanceBalanced,
            new NegativeSampler(NegativeSamplerKind.IoUBalanced, new IoUBalancedOptions(0, 0.5, 2), null, null)), r.Sample);
        Assert.Equal(new ClassificationLoss(ClassificationLossKind.CrossEntropy, 2, null, null), r.Loss.Cls);
        Recipe focal = TestRecipes.Valid(RecipeAttributeMap.Read(typeof(AttributedFocal), TestRecipes.Folder));
        Assert.Equal(new ClassificationLoss(ClassificationLossKind.Focal, 2, new FocalOptions(1.5, 0.5), null), focal.Loss.Cls);
        Assert.Equal(new BoxLoss(BoxLossKind.BalancedL1, 0.5, 0.8, new BalancedL1Options(0.4, 1.2)), r.Loss.Box);
        Assert.Equal(new TrainSettings("data/coco", 3, 2, 0.005, 0.8, 0.001, 10, 0.01, LrSchedule.Cosine, ImmutableEquatableArray.Create(1, 2), 64, 7), r.Train);
    }

    [Fact]
    public void The_old_iou_spellings_still_set_the_same_keys()
    {
        Recipe old = TestRecipes.Valid(RecipeAttributeMap.Read(typeof(AttributedOldSpelling), TestRecipes.Folder));
        Recipe now = TestRecipes.Valid(RecipeAttributeMap.Read(typeof(AttributedEverything), TestRecipes.Folder));
        Assert.Equal(new AssignSettings(0.6, 0.4, 0.3, true), old.Assign);
        Assert.Equal(now.Assign, old.Assign);
        Assert.Equal(now.Sample!.Negatives, old.Sample!.Negatives);
    }

    [Fact]
    public void Every_attribute_maps_onto_a_section_of_the_language()
    {
        var attributes = typeof(RecipeAttribute).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.IsSubclassOf(typeof(Attribute)) && t != typeof(VariantAttribute))
            .Select(t => t.Name.Replace("Attribute", ""));
        Assert.Equal(attributes.Order(StringComparer.Ordinal), RecipeAttributeMap.Sections.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, (section, _)) in RecipeAttributeMap.Sections)
        {
            Type type = typeof(RecipeAttribute).Assembly.GetType($"Pisa.Recipes.{name}Attribute")!;
            foreach (var property in type.GetProperties().Where(p => p.CanWrite))
            {
                string path = (section.Length == 0 ? "" : section + ".") + RecipeAttributeMap.SnakeCase(property.Name);
                Assert.True(RecipeKeys.Find(path) is not null || RecipeKeys.Deprecated.ContainsKey(path), $"{type.Name}.{property.Name} → {path} is no key");
            }
        }
    }

    [Fact]
    public void Every_key_of_the_language_has_an_attribute_that_sets_it()
    {
        var set = new HashSet<string>(StringComparer.Ordinal) { "variants" };
        foreach (var (name, (section, constructorKey)) in RecipeAttributeMap.Sections)
        {
            string Join(string key) => section.Length == 0 ? key : section + "." + key;
            if (constructorKey is not null) set.Add(Join(constructorKey));
            Type type = typeof(RecipeAttribute).Assembly.GetType($"Pisa.Recipes.{name}Attribute")!;
            foreach (var property in type.GetProperties().Where(p => p.CanWrite))
                set.Add(Join(RecipeAttributeMap.SnakeCase(property.Name)));
        }
        var keys = RecipeKeys.Root.DescendantsAndSelf().Where(k => k.Kind != KeyKind.Section).Select(k => k.Path);
        Assert.Empty(keys.Where(k => !set.Contains(k)).Order(StringComparer.Ordinal));
    }

    [Recipe("resnet-keep-ratio", Base = "faster-rcnn")]
    [Model(Backbone = BackboneKind.Resnet18, Pretrained = "weights/r18.pth", FrozenStages = 2, NormEval = false)]
    [Train(Scale = [1333, 800], Multiscale = [640, 800], PadDivisor = 64)]
    private sealed class AttributedResNetKeepRatio;

    [Fact]
    public void The_model_and_image_keys_read_from_attributes_as_from_yaml()
    {
        Recipe r = TestRecipes.Valid(RecipeAttributeMap.Read(typeof(AttributedResNetKeepRatio), TestRecipes.Folder));
        Assert.Equal(BackboneKind.Resnet18, r.Model.Backbone);
        Assert.Equal(2, r.Model.FrozenStages);
        Assert.False(r.Model.NormEval);
        Assert.Equal("weights/r18.pth", r.Model.Pretrained);
        Assert.Equal([1333, 800], r.Train.Scale!);
        Assert.Equal([640, 800], r.Train.MultiScale!);
        Assert.Equal(64, r.Train.PadDivisor);
    }

    [Fact]
    public void Settings_from_a_parser_report_at_the_spans_it_gives()
    {
        // What the generator does with an attribute's syntax: one span per argument, the rules unchanged.
        var name = new SourceSpan("Pipelines/MyPisa.cs", 3, 2, 3, 40);
        var carl = new SourceSpan("Pipelines/MyPisa.cs", 4, 8, 4, 14);
        var settings = RecipeAttributeMap.Settings("RecipeAttribute", ["my-pisa"], [new("Base", "pisa-faster-rcnn")], name)
            .Concat(RecipeAttributeMap.Settings("CarlAttribute", [], [new("K", -1.0)], carl));
        RecipeLoadResult result = new RecipeLoader().LoadSettings(settings, name, TestRecipes.Folder);
        Assert.Equal(["Pipelines/MyPisa.cs(4,8): error PISA0006: 'loss.carl.k' is -1: it must be >= 0"], result.Diagnostics.Select(d => d.ToString()));
    }
}
