using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>
/// The recipe language: every key, its range and its one default. Defaults follow the mmdetection two-stage R-CNN
/// head (ALGORITHMS.md) and, for <c>train:</c>, a short CPU run; recipes that mirror other configs set their values.
/// </summary>
public static class RecipeKeys
{
    private static readonly string[] IouBalanced = { "iou_balanced" };
    private static readonly string[] ScoreHlr = { "score_hlr" };
    private static readonly string[] Focal = { "focal" };
    private static readonly string[] AnyBoxLoss = { "l1", "smooth_l1", "balanced_l1" };
    private static readonly string[] BetaBoxLoss = { "smooth_l1", "balanced_l1" };
    private static readonly string[] BalancedL1 = { "balanced_l1" };

    private static KeySpec Section(string name, string doc) => new(name, KeyKind.Section, doc);

    private static KeySpec Fraction(string name, string @default, string doc, string[]? forTypes = null) =>
        new(name, KeyKind.Number, doc) { Default = @default, Min = 0, Max = 1, ForTypes = forTypes };

    private static KeySpec Positive(string name, string @default, string doc, string[]? forTypes = null) =>
        new(name, KeyKind.Number, doc) { Default = @default, Min = 0, MinExclusive = true, ForTypes = forTypes };

    private static KeySpec NonNegative(string name, string @default, string doc, string[]? forTypes = null) =>
        new(name, KeyKind.Number, doc) { Default = @default, Min = 0, ForTypes = forTypes };

    private static KeySpec Count(string name, string @default, string doc, int min = 1, string[]? forTypes = null) =>
        new(name, KeyKind.Integer, doc) { Default = @default, Min = min, Max = int.MaxValue, ForTypes = forTypes };

    private static KeySpec Switch(string name, string @default, string doc) => new(name, KeyKind.Boolean, doc) { Default = @default };

    private static KeySpec Type(string @default, string doc, params string[] names) =>
        new("type", KeyKind.Name, doc) { Default = @default, Names = names };

    /// <summary>The root of the key tree.</summary>
    public static KeySpec Root { get; } = Section("", "A Pisa.Dsl recipe: one training-sample pipeline (assign, sample, rank, reweight, loss) and, optionally, the run around it.").With(
        new KeySpec("recipe", KeyKind.Text, "The recipe's unique kebab-case name; the generated type is its PascalCase form (pisa-faster-rcnn → PisaFasterRcnn).")
        { Required = true, Pattern = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$" },
        new KeySpec("base", KeyKind.Text, "A recipe to inherit: a name looked up in this folder, then among the recipes shipped with Pisa.Dsl (faster-rcnn); pisa/NAME for a shipped one whatever this folder holds (pisa/faster-rcnn); or a relative path (../x.yaml). Values set here override it."),
        new KeySpec("compat", KeyKind.Name, "mmdet reproduces the reference's quirks Q1-Q6 exactly; corrected fixes them.")
        { Default = "corrected", Names = new[] { "corrected", "mmdet" } },
        new KeySpec("detector", KeyKind.Name, "two-stage (RPN + R-CNN head on sampled RoIs) or single-stage (RetinaNet-like, every anchor).")
        { Required = true, Names = new[] { "two-stage", "single-stage" } },
        new KeySpec("box_coder", KeyKind.Name, "How box regression targets are coded, and the detector's boxes decoded: rcnn (deltas divided by stds 0.1, 0.1, 0.2, 0.2: the R-CNN box head) or unit (stds 1: RetinaNet's head).")
        { Default = "rcnn", Names = new[] { "rcnn", "unit" } },
        Section("assign", "Max-IoU assignment of candidates to ground truths.").With(
            Fraction("pos_iou", "0.5", "A candidate whose max IoU is at least this is positive."),
            Fraction("neg_iou", "0.5", "A candidate whose max IoU is in [0, neg_iou) is negative."),
            Fraction("min_pos_iou", "0.5", "With match_low_quality, a ground truth claims its best candidates if their IoU is at least this."),
            Switch("match_low_quality", "false", "Let every ground truth claim its best-overlapping candidates, even below pos_iou.")),
        new KeySpec("rpn", KeyKind.Section, "Region proposals kept per image (two-stage detectors).") { TwoStageOnly = true }.With(
            Count("train_proposals", "1000", "Proposals per image after NMS in training."),
            Count("test_proposals", "1000", "Proposals per image after NMS at test time.")),
        new KeySpec("sample", KeyKind.Section, "RoI sampling per image (two-stage detectors; a single-stage detector uses every anchor).") { TwoStageOnly = true }.With(
            Count("num", "512", "RoIs kept per image."),
            Fraction("pos_fraction", "0.25", "At most int(num * pos_fraction) of them positive; missing positives are filled with negatives."),
            new KeySpec("neg_pos_ub", KeyKind.Integer, "At most this many negatives per positive; -1 = no cap.") { Default = "-1", Min = 0, Max = int.MaxValue, Sentinel = -1 },
            Switch("add_gt_as_proposals", "true", "Prepend the ground-truth boxes to each image's candidates."),
            Section("positives", "How positives are drawn.").With(
                Type("random", "random: uniform; instance_balanced: evenly over ground truths (Libra); ohem: highest loss first.", "random", "instance_balanced", "ohem")),
            Section("negatives", "How negatives are drawn.").With(
                Type("random", "random: uniform; iou_balanced: evenly over IoU bins (Libra); ohem: highest loss first; score_hlr: most important by Score-HLR (PISA's rank of negatives, computed for this sampler only), with ISR-N weights.",
                    "random", "iou_balanced", "ohem", "score_hlr"),
                new KeySpec("floor_thr", KeyKind.Number, "iou_balanced: negatives with IoU below this are the floor set; -1 = no floor set.")
                { Default = "-1", Min = 0, Max = 1, MaxExclusive = true, Sentinel = -1, ForTypes = IouBalanced },
                Fraction("floor_fraction", "0", "iou_balanced: the share of the budget drawn from the floor set.", IouBalanced),
                Count("num_bins", "3", "iou_balanced: IoU intervals drawn evenly from.", 1, IouBalanced),
                new KeySpec("score_thr", KeyKind.Number, "score_hlr: Score-HLR counts a negative as valid when its best foreground score exceeds this.")
                { Default = "0.05", Min = 0, Max = 1, MaxExclusive = true, ForTypes = ScoreHlr },
                new KeySpec("iou_thr", KeyKind.Number, "score_hlr: Score-HLR groups valid negatives by nms_match at IoU >= this.")
                { Default = "0.5", Min = 0, Max = 1, MinExclusive = true, ForTypes = ScoreHlr },
                NonNegative("k", "0.5", "score_hlr: ISR-N exponent of (bias + (1-bias)*w)^k.", ScoreHlr),
                Fraction("bias", "0", "score_hlr: ISR-N bias.", ScoreHlr))),
        Section("loss", "The classification loss (with optional ISR-P), the box loss and optional CARL.").With(
            Section("cls", "Classification loss.").With(
                Type("cross_entropy", "cross_entropy (softmax over C+1) or focal (sigmoid focal loss).", "cross_entropy", "focal"),
                NonNegative("loss_weight", "1", "Multiplies the loss."),
                NonNegative("gamma", "2", "focal: the modulating exponent.", Focal),
                Fraction("alpha", "0.25", "focal: the positive-class weight.", Focal),
                new KeySpec("isr", KeyKind.Section, "ISR-P (PISA): reweight positives by their IoU-HLR rank (computed for ISR-P only); null or absent = off.") { Optional = true }.With(
                    NonNegative("k", "2", "Exponent of (bias + (1-bias)*w)^k."),
                    Fraction("bias", "0", "Bias of the weights."))),
            Section("box", "Box regression loss.").With(
                Type("l1", "l1, smooth_l1, balanced_l1 (Libra) or none.", "l1", "smooth_l1", "balanced_l1", "none"),
                NonNegative("loss_weight", "1", "Multiplies the loss.", AnyBoxLoss),
                Positive("beta", "1", "smooth_l1: where the quadratic part ends; balanced_l1: its beta.", BetaBoxLoss),
                Positive("alpha", "0.5", "balanced_l1: alpha.", BalancedL1),
                Positive("gamma", "1.5", "balanced_l1: gamma.", BalancedL1)),
            new KeySpec("carl", KeyKind.Section, "CARL (PISA): weight each positive's box loss by its classification score; added to the box loss; null or absent = off.") { Optional = true }.With(
                NonNegative("k", "1", "Exponent of (bias + (1-bias)*s)^k."),
                Fraction("bias", "0.2", "Bias of the weights."))),
        Section("model", "The detector's backbone (optional; the default is the runner's small CNN for 128 px images).").With(
            new KeySpec("backbone", KeyKind.Name, "small (0.3 M-parameter CNN + 2-level FPN), or torchvision's ResNet-18/34/50/101 with mmdetection's FPN (P2-P6 two-stage, P3-P7 single-stage).")
            { Default = "small", Names = new[] { "small", "resnet18", "resnet34", "resnet50", "resnet101" } },
            new KeySpec("pretrained", KeyKind.Text, "ResNet weights to start from: a PyTorch state_dict (.pth/.pt) or .safetensors file (torchvision's names; fc.* ignored), relative to the recipe's folder; none = random initialisation.")
            { Default = "none" },
            new KeySpec("frozen_stages", KeyKind.Integer, "ResNet stages whose parameters are frozen (mmdetection's frozen_stages): 0 = the stem, 1 = the stem and layer1, ... 4; -1 = none.")
            { Default = "1", Min = 0, Max = 4, Sentinel = -1 },
            Switch("norm_eval", "true", "ResNet BatchNorm layers stay in eval mode (running statistics used, not updated) with their affine parameters frozen, even while training.")),
        Section("train", "Run settings (optional; the defaults suit a short CPU run on the built-in data set).").With(
            new KeySpec("data", KeyKind.Text, "builtin:shapes, or a COCO folder or instances JSON path.") { Default = "builtin:shapes", Builtins = new[] { "builtin:shapes" } },
            Count("epochs", "12", "Training epochs."),
            Count("batch", "4", "Images per batch."),
            Positive("lr", "0.01", "Base learning rate (SGD)."),
            new KeySpec("momentum", KeyKind.Number, "SGD momentum.") { Default = "0.9", Min = 0, Max = 1, MaxExclusive = true },
            NonNegative("weight_decay", "0.0001", "SGD weight decay."),
            Count("warmup_iters", "100", "Linear warm-up iterations.", 0),
            new KeySpec("warmup_ratio", KeyKind.Number, "Warm-up starts at lr * warmup_ratio.") { Default = "0.001", Min = 0, MinExclusive = true, Max = 1 },
            new KeySpec("schedule", KeyKind.Name, "step (x0.1 after each of lr_steps), cosine or constant.") { Default = "step", Names = new[] { "step", "cosine", "constant" } },
            new KeySpec("lr_steps", KeyKind.IntegerList, "step schedule: epochs after which the learning rate drops x0.1, ascending (a step at or after the last epoch never applies, so a shortened run keeps them).") { Default = "[8, 11]", Min = 1, Max = int.MaxValue },
            Count("image_size", "128", "Without train.scale: every image is resized to image_size x image_size (aspect ratio not kept).", 16),
            new KeySpec("scale", KeyKind.IntegerList, "Keep-ratio resize (mmdetection's keep_ratio): [long, short] limits, e.g. [1333, 800]: each image is scaled as large as fits both (long side <= long, short side <= short), in training and evaluation; [] = the square image_size resize.")
            { Default = "[]", Min = 16, Max = int.MaxValue },
            new KeySpec("multiscale", KeyKind.IntegerList, "Multi-scale training with train.scale (mmdetection's value mode): short-side limits, one drawn per image, the long side limited by train.scale's; evaluation uses train.scale; [] = off.")
            { Default = "[]", Min = 16, Max = int.MaxValue },
            Count("pad_divisor", "32", "With train.scale: each batch is padded (right and bottom) to a multiple of this; the padding is masked (no anchor there is a sample)."),
            Count("seed", "0", "Seed of data order, sampling and initialisation.", 0)),
        new KeySpec("variants", KeyKind.Variants, "A sweep: dotted key → list of values; one pipeline per point of the cross product, named from its values."))
        .Seal(null);

    private static readonly Dictionary<string, KeySpec> ByPath = Root.DescendantsAndSelf().Where(k => k.Path.Length > 0).ToDictionary(k => k.Path);

    /// <summary>The key at a dotted path, or null.</summary>
    public static KeySpec? Find(string path) => ByPath.TryGetValue(path, out KeySpec? key) ? key : null;

    /// <summary>
    /// Keys the language no longer has, still read with a warning (PISA0030): old path → the key its value is read
    /// from now, or null when the value is implied by another stage and ignored. See <c>DeprecatedKeys</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> Deprecated { get; } = new Dictionary<string, string?>
    {
        ["rank.positives.type"] = null, // IoU-HLR whenever loss.cls.isr is on
        ["rank.negatives.type"] = null, // Score-HLR whenever sample.negatives.type is score_hlr
        ["rank.negatives.score_thr"] = "sample.negatives.score_thr",
        ["rank.negatives.iou_thr"] = "sample.negatives.iou_thr",
    };

    /// <summary>Every key that <c>--set</c> and <c>variants:</c> may target, in declaration order.</summary>
    public static IReadOnlyList<KeySpec> Variables { get; } = Root.DescendantsAndSelf().Where(k => k.Variable).ToList();
}
