using System;

namespace Pisa.Recipes;

// The attributed-class front door. Each attribute maps 1:1 onto a section of the recipe language
// (RecipeAttributeMap.Sections): the constructor argument is the section's type (or the recipe's name), and each
// property is the key of the same name in snake_case (PosIoU → pos_iou). Only properties that are set count, so
// a base recipe's values stay unless overridden, exactly as in YAML.
//
//   [Recipe("pisa-faster-rcnn", Base = "faster-rcnn", Compat = CompatMode.Mmdet)]
//   [NegativeSampler(NegativeSamplerKind.ScoreHlr, K = 0.5, Bias = 0)]
//   [Variant("loss.cls.isr.k", 1, 2)]
//   public partial class PisaFasterRcnn;

/// <summary>A recipe: its kebab-case name (the class is the generated pipeline), base recipe, compat mode and detector kind.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class RecipeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
    public string Base { get; set; } = "";
    public CompatMode Compat { get; set; }
    public DetectorKind Detector { get; set; }
    public BoxCoderKind BoxCoder { get; set; }
}

/// <summary><c>assign:</c> max-IoU assignment thresholds.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class AssignAttribute : Attribute
{
    public double PosIoU { get; set; }
    public double NegIoU { get; set; }
    public double MinPosIoU { get; set; }
    public bool MatchLowQuality { get; set; }

    /// <summary>The old spelling of <see cref="PosIoU"/>.</summary>
    [Obsolete("Use PosIoU: IoU is spelt as the kernels spell it.")]
    public double PosIou { get => PosIoU; set => PosIoU = value; }

    /// <summary>The old spelling of <see cref="NegIoU"/>.</summary>
    [Obsolete("Use NegIoU: IoU is spelt as the kernels spell it.")]
    public double NegIou { get => NegIoU; set => NegIoU = value; }

    /// <summary>The old spelling of <see cref="MinPosIoU"/>.</summary>
    [Obsolete("Use MinPosIoU: IoU is spelt as the kernels spell it.")]
    public double MinPosIou { get => MinPosIoU; set => MinPosIoU = value; }
}

/// <summary><c>rpn:</c> proposals per image.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class RpnAttribute : Attribute
{
    public int TrainProposals { get; set; }
    public int TestProposals { get; set; }
}

/// <summary><c>sample:</c> RoIs per image and the positive fraction.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class SampleAttribute : Attribute
{
    public int Num { get; set; }
    public double PosFraction { get; set; }
    public int NegPosUb { get; set; }
    public bool AddGtAsProposals { get; set; }
}

/// <summary><c>sample.positives:</c> the positive sampler.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class PositiveSamplerAttribute(PositiveSamplerKind type) : Attribute
{
    public PositiveSamplerKind Type { get; } = type;
}

/// <summary><c>sample.negatives:</c> the negative sampler and its kind's options.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class NegativeSamplerAttribute(NegativeSamplerKind type) : Attribute
{
    public NegativeSamplerKind Type { get; } = type;
    public double FloorThr { get; set; }
    public double FloorFraction { get; set; }
    public int NumBins { get; set; }
    public double ScoreThr { get; set; }
    public double IoUThr { get; set; }
    public double K { get; set; }
    public double Bias { get; set; }

    /// <summary>The old spelling of <see cref="IoUThr"/>.</summary>
    [Obsolete("Use IoUThr: IoU is spelt as the kernels spell it.")]
    public double IouThr { get => IoUThr; set => IoUThr = value; }
}

/// <summary>Deprecated (warning PISA0030): IoU-HLR ranks the positives whenever ISR-P (<see cref="IsrAttribute"/>) is on.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class PositiveRankAttribute(PositiveRankKind type) : Attribute
{
    public PositiveRankKind Type { get; } = type;
}

/// <summary>Deprecated (warning PISA0030): Score-HLR ranks the negatives of score_hlr sampling; its thresholds are <see cref="NegativeSamplerAttribute"/>'s.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class NegativeRankAttribute(NegativeRankKind type) : Attribute
{
    public NegativeRankKind Type { get; } = type;
    public double ScoreThr { get; set; }
    public double IoUThr { get; set; }

    /// <summary>The old spelling of <see cref="IoUThr"/>.</summary>
    [Obsolete("Use IoUThr: IoU is spelt as the kernels spell it.")]
    public double IouThr { get => IoUThr; set => IoUThr = value; }
}

/// <summary><c>loss.cls:</c> the classification loss.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ClassificationLossAttribute(ClassificationLossKind type) : Attribute
{
    public ClassificationLossKind Type { get; } = type;
    public double LossWeight { get; set; }
    public double Gamma { get; set; }
    public double Alpha { get; set; }
}

/// <summary><c>loss.cls.isr:</c> ISR-P on positives.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class IsrAttribute : Attribute
{
    public double K { get; set; }
    public double Bias { get; set; }
}

/// <summary><c>loss.box:</c> the box loss.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class BoxLossAttribute(BoxLossKind type) : Attribute
{
    public BoxLossKind Type { get; } = type;
    public double LossWeight { get; set; }
    public double Beta { get; set; }
    public double Alpha { get; set; }
    public double Gamma { get; set; }
}

/// <summary><c>loss.carl:</c> CARL on positives' box loss.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class CarlAttribute : Attribute
{
    public double K { get; set; }
    public double Bias { get; set; }
}

/// <summary><c>train:</c> run settings.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TrainAttribute : Attribute
{
    public string Data { get; set; } = "";
    public int Epochs { get; set; }
    public int Batch { get; set; }
    public double Lr { get; set; }
    public double Momentum { get; set; }
    public double WeightDecay { get; set; }
    public int WarmupIters { get; set; }
    public double WarmupRatio { get; set; }
    public LrSchedule Schedule { get; set; }
    public int[] LrSteps { get; set; } = Array.Empty<int>();
    public int ImageSize { get; set; }
    public int[] Scale { get; set; } = Array.Empty<int>();
    public int[] Multiscale { get; set; } = Array.Empty<int>();
    public int PadDivisor { get; set; }
    public int Seed { get; set; }
}

/// <summary><c>model:</c> the detector's backbone.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ModelAttribute : Attribute
{
    public BackboneKind Backbone { get; set; }
    public string Pretrained { get; set; } = "";
    public int FrozenStages { get; set; }
    public bool NormEval { get; set; }
}

/// <summary>One sweep axis: <c>[Variant("loss.cls.isr.k", 1, 2)]</c> is <c>variants: { loss.cls.isr.k: [1, 2] }</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class VariantAttribute(string key, params object[] values) : Attribute
{
    public string Key { get; } = key;
    public object[] Values { get; } = values;
}
