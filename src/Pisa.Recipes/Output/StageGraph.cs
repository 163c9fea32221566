using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>The stage graph in words: what each stage of a resolved recipe does, in the order a training step runs them.</summary>
public static class StageGraph
{
    public static IReadOnlyList<string> Describe(Recipe recipe)
    {
        var lines = new List<string>
        {
            $"{recipe.TypeName}: {(recipe.Detector == DetectorKind.TwoStage ? "two-stage" : "single-stage")} detector, compat {(recipe.Compat == CompatMode.Mmdet ? "mmdet (reference quirks Q1-Q6 reproduced)" : "corrected (quirks Q1-Q6 fixed)")}",
        };
        int step = 1;
        void Add(string stage, string what) => lines.Add($"  {step++}. {stage,-8} {what}");

        if (recipe.Rpn is RpnSettings rpn)
            Add("propose", $"RPN keeps {rpn.TrainProposals} proposals per image in training, {rpn.TestProposals} at test time");
        AssignSettings a = recipe.Assign;
        Add("assign", $"max-IoU: positive at IoU >= {N(a.PosIoU)}, negative in [0, {N(a.NegIoU)}), "
            + (a.MatchLowQuality ? $"low-quality matches at IoU >= {N(a.MinPosIoU)}" : "no low-quality matches")
            + (recipe.Detector == DetectorKind.SingleStage ? "; every anchor is used (no sampling)" : ""));
        if (recipe.Sample is SampleSettings s)
            Add("sample", $"{s.Num} RoIs per image, at most {(int)(s.Num * s.PosFraction)} positive{(s.AddGtAsProposals ? ", ground truths added as proposals" : "")}"
                + (s.NegPosUb >= 0 ? $", at most {s.NegPosUb} negatives per positive" : "")
                + $"; positives {PositiveSampler(s.Positives)}; negatives {NegativeSampler(s.Negatives, recipe.Rank)}");
        Add("rank", $"positives {(recipe.Rank.Positives == PositiveRankKind.IoUHlr ? "by IoU-HLR" : "not ranked")}; negatives "
            + (recipe.Rank.ScoreHlr is ScoreHlrOptions h ? $"by Score-HLR (valid when score > {N(h.ScoreThr)}, grouped by nms_match at IoU >= {N(h.IoUThr)})" : "not ranked"));
        var reweight = new List<string>();
        if (recipe.Sample?.Negatives.IsrN is ReweightSettings n) reweight.Add($"ISR-N on sampled negatives (k {N(n.K)}, bias {N(n.Bias)})");
        if (recipe.Loss.Cls.Isr is ReweightSettings p) reweight.Add($"ISR-P on positives (k {N(p.K)}, bias {N(p.Bias)})");
        if (recipe.Loss.Carl is ReweightSettings c) reweight.Add($"CARL on positives' box loss (k {N(c.K)}, bias {N(c.Bias)})");
        Add("reweight", reweight.Count == 0 ? "none" : string.Join("; ", reweight));
        Add("loss", $"{Classification(recipe.Loss.Cls)} + {Box(recipe.Loss.Box)}{(recipe.Loss.Carl is null ? "" : " + CARL")}");
        return lines;
    }

    private static string N(double value) => RecipeValues.FormatPlain(value);

    private static string PositiveSampler(PositiveSamplerKind kind) => kind switch
    {
        PositiveSamplerKind.InstanceBalanced => "instance-balanced (evenly over ground truths)",
        PositiveSamplerKind.Ohem => "by OHEM (highest classification loss)",
        _ => "at random",
    };

    private static string NegativeSampler(NegativeSampler sampler, RankSettings rank) => sampler.Type switch
    {
        NegativeSamplerKind.IoUBalanced when sampler.IoUBalanced is IoUBalancedOptions o =>
            $"IoU-balanced over {o.NumBins} bins" + (o.FloorThr < 0 ? ", no floor set" : $", floor set below IoU {N(o.FloorThr)} gets {N(o.FloorFraction)} of the budget"),
        NegativeSamplerKind.Ohem => "by OHEM (highest classification loss)",
        NegativeSamplerKind.ScoreHlr => "most important first by Score-HLR, the rest at random",
        _ => "at random",
    };

    private static string Classification(ClassificationLoss cls) =>
        (cls.Focal is FocalOptions f ? $"sigmoid focal loss (gamma {N(f.Gamma)}, alpha {N(f.Alpha)})" : "softmax cross entropy")
        + (cls.LossWeight == 1 ? "" : $" x {N(cls.LossWeight)}");

    private static string Box(BoxLoss box) => box.Type switch
    {
        BoxLossKind.None => "no box loss",
        BoxLossKind.SmoothL1 => $"smooth L1 (beta {N(box.Beta ?? 1)})",
        BoxLossKind.BalancedL1 when box.BalancedL1 is BalancedL1Options b => $"balanced L1 (alpha {N(b.Alpha)}, gamma {N(b.Gamma)}, beta {N(box.Beta ?? 1)})",
        _ => "L1",
    } + (box.Type != BoxLossKind.None && box.LossWeight != 1 ? $" x {N(box.LossWeight)}" : "");
}
