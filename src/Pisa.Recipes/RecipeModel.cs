namespace Pisa.Recipes;

// The recipe model: plain, value-equal data (strings, numbers, enums, ImmutableEquatableArray), so the source
// generator can cache it and every front door (YAML, attributes, --set) ends in the same records. Defaults do not
// live here: RecipeKeys holds every key, its range and its one default; RecipeValidator builds these records.

/// <summary>A fully resolved recipe: base chain, overrides and at most one variant point applied; every value explicit.</summary>
/// <param name="Name">The <c>recipe:</c> name, kebab-case (<c>pisa-faster-rcnn</c>).</param>
/// <param name="Variant">The variant point's generated name (<c>PisaSweep_IsrK1_CarlBias0</c>), or null for the recipe itself.</param>
/// <param name="BaseChain">Recipe names from this one to its root base, this one first.</param>
/// <param name="BoxCoder">How box regression targets are coded, and the detector's boxes decoded.</param>
/// <param name="Rpn">Proposal counts; null for single-stage detectors.</param>
/// <param name="Sample">The sampler stage; null for single-stage detectors (they use every anchor).</param>
/// <param name="Variants">The sweep axes, in file order; empty for a variant point.</param>
/// <param name="Settings">Every leaf key path with its canonical value text, in <see cref="RecipeKeys"/> order: the resolved form.</param>
public sealed record Recipe(
    string Name,
    string? Variant,
    ImmutableEquatableArray<string> BaseChain,
    CompatMode Compat,
    DetectorKind Detector,
    BoxCoderKind BoxCoder,
    AssignSettings Assign,
    RpnSettings? Rpn,
    SampleSettings? Sample,
    LossSettings Loss,
    TrainSettings Train,
    ModelSettings Model,
    ImmutableEquatableArray<VariantAxis> Variants,
    ImmutableEquatableArray<Setting> Settings)
{
    /// <summary>The generated pipeline type: <c>PisaFasterRcnn</c>, or the variant point's name.</summary>
    public string TypeName => Variant ?? RecipeNames.TypeName(Name);

    /// <summary>
    /// The ranks this pipeline computes, implied by the stages they serve (never written): IoU-HLR of positives for
    /// ISR-P, Score-HLR of negatives for score_hlr sampling.
    /// </summary>
    public RankSettings Rank => new(
        Loss.Cls.Isr is null ? PositiveRankKind.None : PositiveRankKind.IouHlr,
        Sample?.Negatives.ScoreHlr is null ? NegativeRankKind.None : NegativeRankKind.ScoreHlr,
        Sample?.Negatives.ScoreHlr);
}

/// <summary>One resolved leaf: <c>loss.carl.k</c> → <c>1.0</c> (YAML text in canonical form; <c>null</c> for a stage that is off).</summary>
/// <param name="Origin">Where the value was written (file, line), or null for a default; generated code cites it.
/// It is not part of equality: the same values written elsewhere are the same recipe.</param>
public sealed record Setting(string Path, string Value, SourceSpan? Origin = null)
{
    public bool Equals(Setting? other) => other is not null && Path == other.Path && Value == other.Value;

    public override int GetHashCode() => (Path.GetHashCode() * 397) ^ Value.GetHashCode();
}

/// <summary>Reference behaviour (<c>mmdet</c>, quirks Q1-Q6 reproduced) or the fixed one (<c>corrected</c>).</summary>
public enum CompatMode { Corrected, Mmdet }

public enum DetectorKind { TwoStage, SingleStage }

public enum PositiveSamplerKind { Random, InstanceBalanced, Ohem }

public enum NegativeSamplerKind { Random, IouBalanced, Ohem, ScoreHlr }

/// <summary>Whether positives are ranked (by IoU-HLR); implied by ISR-P. Also the argument of the deprecated <see cref="PositiveRankAttribute"/>.</summary>
public enum PositiveRankKind { None, IouHlr }

/// <summary>Whether negatives are ranked (by Score-HLR); implied by score_hlr sampling. Also the argument of the deprecated <see cref="NegativeRankAttribute"/>.</summary>
public enum NegativeRankKind { None, ScoreHlr }

public enum ClassificationLossKind { CrossEntropy, Focal }

public enum BoxLossKind { L1, SmoothL1, BalancedL1, None }

/// <summary>How box regression targets are coded: the R-CNN box head's deltas (stds 0.1, 0.1, 0.2, 0.2) or unit ones (RetinaNet).</summary>
public enum BoxCoderKind { Rcnn, Unit }

public enum LrSchedule { Step, Cosine, Constant }

public enum BackboneKind { Small, Resnet18, Resnet34, Resnet50, Resnet101 }

/// <summary>Max-IoU assignment of candidates to ground truths.</summary>
public sealed record AssignSettings(double PosIou, double NegIou, double MinPosIou, bool MatchLowQuality);

/// <summary>RPN proposals kept per image before the second stage, in training and at test time.</summary>
public sealed record RpnSettings(int TrainProposals, int TestProposals);

/// <summary>Two-stage sampling: <see cref="Num"/> RoIs per image, at most <c>int(Num*PosFraction)</c> positive.</summary>
/// <param name="NegPosUb">Cap on negatives per positive; -1 = no cap.</param>
public sealed record SampleSettings(
    int Num, double PosFraction, int NegPosUb, bool AddGtAsProposals,
    PositiveSamplerKind Positives, NegativeSampler Negatives);

/// <summary>The negative sampler and the options of its kind (iou_balanced: <see cref="IouBalanced"/>; score_hlr: <see cref="ScoreHlr"/> and <see cref="IsrN"/>).</summary>
/// <param name="ScoreHlr">The Score-HLR rank that score_hlr sampling keeps the most important negatives of.</param>
/// <param name="IsrN">ISR-N weights of score_hlr sampling.</param>
public sealed record NegativeSampler(NegativeSamplerKind Type, IouBalancedOptions? IouBalanced, ScoreHlrOptions? ScoreHlr, ReweightSettings? IsrN);

/// <summary>IoU-balanced negatives (Libra R-CNN): floor_thr -1 means no floor set.</summary>
public sealed record IouBalancedOptions(double FloorThr, double FloorFraction, int NumBins);

/// <summary>Hierarchical local rank: IoU-HLR of positives, Score-HLR of negatives (<see cref="Recipe.Rank"/>, implied by the stages they serve).</summary>
public sealed record RankSettings(PositiveRankKind Positives, NegativeRankKind Negatives, ScoreHlrOptions? ScoreHlr);

/// <summary>Score-HLR: a negative is valid when its best foreground score exceeds ScoreThr; groups by nms_match at IouThr.</summary>
public sealed record ScoreHlrOptions(double ScoreThr, double IouThr);

/// <summary>PISA's weight shaping <c>(bias + (1-bias)*w)^k</c>: ISR-P (positives), ISR-N (negatives) and CARL (the class
/// score on each positive's box loss). The same pair as the kernels' <c>ReweightSettings</c>.</summary>
public sealed record ReweightSettings(double K, double Bias);

/// <param name="Carl">CARL when on: each positive's box loss weighted by its class score, added to the box loss.</param>
public sealed record LossSettings(ClassificationLoss Cls, BoxLoss Box, ReweightSettings? Carl);

/// <param name="Focal">Gamma and alpha when <see cref="Type"/> is focal.</param>
/// <param name="Isr">ISR-P when on.</param>
public sealed record ClassificationLoss(ClassificationLossKind Type, double LossWeight, FocalOptions? Focal, ReweightSettings? Isr);

public sealed record FocalOptions(double Gamma, double Alpha);

/// <param name="Beta">smooth_l1 and balanced_l1; null otherwise.</param>
/// <param name="BalancedL1">alpha and gamma of balanced_l1.</param>
public sealed record BoxLoss(BoxLossKind Type, double LossWeight, double? Beta, BalancedL1Options? BalancedL1);

public sealed record BalancedL1Options(double Alpha, double Gamma);

/// <summary>Optional run settings (defaults suit a short CPU run on <c>builtin:shapes</c>).</summary>
/// <param name="LrSteps">Epochs after which the step schedule multiplies the learning rate by 0.1.</param>
/// <param name="Scale">Keep-ratio resize limits [long, short], or null for the square <paramref name="ImageSize"/> resize.</param>
/// <param name="MultiScale">Short-side limits drawn per training image (with <paramref name="Scale"/>), or null.</param>
/// <param name="PadDivisor">With <paramref name="Scale"/>: batches are padded to a multiple of this.</param>
public sealed record TrainSettings(
    string Data, int Epochs, int Batch, double Lr, double Momentum, double WeightDecay,
    int WarmupIters, double WarmupRatio, LrSchedule Schedule, ImmutableEquatableArray<int> LrSteps,
    int ImageSize, int Seed, ImmutableEquatableArray<int>? Scale = null, ImmutableEquatableArray<int>? MultiScale = null, int PadDivisor = 32);

/// <summary>The detector's backbone (<c>model:</c>).</summary>
/// <param name="Pretrained">A state_dict file as written in the recipe, or null for random initialisation.</param>
/// <param name="FrozenStages">mmdetection's frozen_stages: -1 none, 0 the stem, k the stem and layer1..layerk.</param>
/// <param name="NormEval">BatchNorm layers of the ResNet stay in eval mode with frozen affine parameters.</param>
public sealed record ModelSettings(BackboneKind Backbone, string? Pretrained, int FrozenStages, bool NormEval);

/// <summary>One sweep axis: a dotted key and its values (canonical YAML text), with the label used in point names.</summary>
public sealed record VariantAxis(string Key, string Label, ImmutableEquatableArray<string> Values);
