using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>Validated values → the model records. Runs only when validation found no error.</summary>
internal static class RecipeBuilder
{
    public static Recipe Build(ResolvedValues v, IReadOnlyList<VariantAxisNodes> axes, string? variant, ImmutableEquatableArray<string> baseChain)
    {
        var detector = v.Name<DetectorKind>("detector");
        bool twoStage = detector == DetectorKind.TwoStage;
        return new Recipe(
            Name: v.Text("recipe"),
            Variant: variant,
            BaseChain: baseChain,
            Compat: v.Name<CompatMode>("compat"),
            Detector: detector,
            BoxCoder: v.Name<BoxCoderKind>("box_coder"),
            Assign: new AssignSettings(v.Number("assign.pos_iou"), v.Number("assign.neg_iou"), v.Number("assign.min_pos_iou"), v.Boolean("assign.match_low_quality")),
            Rpn: twoStage ? new RpnSettings(v.Integer("rpn.train_proposals"), v.Integer("rpn.test_proposals")) : null,
            Sample: twoStage ? Sample(v) : null,
            Loss: new LossSettings(Classification(v), Box(v), v.IsOn("loss.carl") ? new ReweightSettings(v.Number("loss.carl.k"), v.Number("loss.carl.bias")) : null),
            Train: Train(v),
            Model: Model(v),
            Variants: axes.Select(a => new VariantAxis(a.Key, a.Label, a.Canonical.ToEquatableArray())).ToEquatableArray(),
            Settings: v.InOrder.Where(x => x.Canonical != "on").Select(x => new Setting(x.Path, x.Canonical, x.Span)).ToEquatableArray());
    }

    private static SampleSettings Sample(ResolvedValues v)
    {
        var negatives = v.Name<NegativeSamplerKind>("sample.negatives.type");
        var sampler = new NegativeSampler(
            negatives,
            negatives == NegativeSamplerKind.IouBalanced
                ? new IouBalancedOptions(v.Number("sample.negatives.floor_thr"), v.Number("sample.negatives.floor_fraction"), v.Integer("sample.negatives.num_bins"))
                : null,
            negatives == NegativeSamplerKind.ScoreHlr ? new ScoreHlrOptions(v.Number("sample.negatives.score_thr"), v.Number("sample.negatives.iou_thr")) : null,
            negatives == NegativeSamplerKind.ScoreHlr ? new ReweightSettings(v.Number("sample.negatives.k"), v.Number("sample.negatives.bias")) : null);
        return new SampleSettings(v.Integer("sample.num"), v.Number("sample.pos_fraction"), v.Integer("sample.neg_pos_ub"),
            v.Boolean("sample.add_gt_as_proposals"), v.Name<PositiveSamplerKind>("sample.positives.type"), sampler);
    }

    private static ClassificationLoss Classification(ResolvedValues v)
    {
        var type = v.Name<ClassificationLossKind>("loss.cls.type");
        return new ClassificationLoss(type, v.Number("loss.cls.loss_weight"),
            type == ClassificationLossKind.Focal ? new FocalOptions(v.Number("loss.cls.gamma"), v.Number("loss.cls.alpha")) : null,
            v.IsOn("loss.cls.isr") ? new ReweightSettings(v.Number("loss.cls.isr.k"), v.Number("loss.cls.isr.bias")) : null);
    }

    private static BoxLoss Box(ResolvedValues v)
    {
        var type = v.Name<BoxLossKind>("loss.box.type");
        return new BoxLoss(type,
            type == BoxLossKind.None ? 0 : v.Number("loss.box.loss_weight"),
            type is BoxLossKind.SmoothL1 or BoxLossKind.BalancedL1 ? v.Number("loss.box.beta") : null,
            type == BoxLossKind.BalancedL1 ? new BalancedL1Options(v.Number("loss.box.alpha"), v.Number("loss.box.gamma")) : null);
    }

    private static ModelSettings Model(ResolvedValues v) => new(
        v.Name<BackboneKind>("model.backbone"), v.Text("model.pretrained") is var path && path != "none" ? path : null,
        v.Integer("model.frozen_stages"), v.Boolean("model.norm_eval"));

    private static TrainSettings Train(ResolvedValues v) => new(
        v.Text("train.data"), v.Integer("train.epochs"), v.Integer("train.batch"), v.Number("train.lr"), v.Number("train.momentum"),
        v.Number("train.weight_decay"), v.Integer("train.warmup_iters"), v.Number("train.warmup_ratio"), v.Name<LrSchedule>("train.schedule"),
        ((int[])v.Find("train.lr_steps")!.Value!).ToEquatableArray(), v.Integer("train.image_size"), v.Integer("train.seed"),
        OptionalList(v, "train.scale"), OptionalList(v, "train.multiscale"), v.Integer("train.pad_divisor"));

    /// <summary>A list key's values, or null when it is the empty list (off).</summary>
    private static ImmutableEquatableArray<int>? OptionalList(ResolvedValues v, string path) =>
        v.Find(path)?.Value is int[] { Length: > 0 } values ? values.ToEquatableArray() : null;
}
