using System;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>
/// How stages combine. Runs only on a recipe whose every value is valid, so each rule reads typed values; each error
/// points at the value that was written (a default has no place to point at, so the rule picks the written side).
/// </summary>
internal static class StageRules
{
    public delegate void Reporter(DiagnosticDescriptorInfo descriptor, SourceSpan span, params string[] arguments);

    public static void Check(ResolvedValues v, bool singleStage, SourceSpan? detectorSpan, Reporter report)
    {
        SourceSpan Where(params string[] paths) =>
            paths.Select(v.SpanOf).FirstOrDefault(s => s is not null) ?? detectorSpan ?? default;

        if (singleStage && v.Text("rank.negatives.type") == "score_hlr")
            report(RecipeDiagnostics.NeedsTwoStage, Where("rank.negatives.type"), "Score-HLR ranking of negatives (rank.negatives.type: score_hlr)",
                detectorSpan is SourceSpan d && d.HasLines ? $"detector at line {d.Line}" : "detector: single-stage");

        if (!singleStage) CheckSampling(v, report, Where);

        if (v.IsOn("loss.carl") && v.Text("loss.box.type") == "none")
            report(RecipeDiagnostics.CarlWithoutBoxLoss, Where("loss.box.type", "loss.carl"));

        bool isr = v.IsOn("loss.cls.isr");
        string positiveRank = v.Text("rank.positives.type");
        if (isr && positiveRank == "none")
            report(RecipeDiagnostics.IsrWithoutRank, Where("loss.cls.isr", "rank.positives.type"));
        if (!isr && positiveRank == "iou_hlr")
            report(RecipeDiagnostics.UnusedRank, Where("rank.positives.type"),
                "rank.positives.type: iou_hlr is computed but nothing uses it: turn on loss.cls.isr, or set it to none");

        if (v.Number("assign.neg_iou") > v.Number("assign.pos_iou"))
            report(RecipeDiagnostics.AssignThresholds, Where("assign.neg_iou", "assign.pos_iou"),
                v.Find("assign.neg_iou")!.Canonical, v.Find("assign.pos_iou")!.Canonical);

        CheckLrSteps(v, report, Where);
    }

    private static void CheckSampling(ResolvedValues v, Reporter report, Func<string[], SourceSpan> where)
    {
        string positives = v.Text("sample.positives.type"), negatives = v.Text("sample.negatives.type");
        if ((positives == "ohem") != (negatives == "ohem"))
            report(RecipeDiagnostics.OhemOneSided, where(new[] { positives == "ohem" ? "sample.positives.type" : "sample.negatives.type" }));
        else if (positives == "ohem" && v.Text("loss.cls.type") == "focal")
            report(RecipeDiagnostics.OhemWithFocal, where(new[] { "sample.negatives.type", "loss.cls.type" }));

        if (negatives == "score_hlr" && v.Text("loss.cls.type") == "focal")
            report(RecipeDiagnostics.ScoreHlrWithSigmoid, where(new[] { "sample.negatives.type", "loss.cls.type" }));

        string negativeRank = v.Text("rank.negatives.type");
        if (negatives == "score_hlr" && negativeRank != "score_hlr")
            report(RecipeDiagnostics.ScoreHlrMismatch, where(new[] { "sample.negatives.type" }),
                "score_hlr sampling keeps the negatives that Score-HLR ranks most important: set rank.negatives.type: score_hlr");
        else if (negativeRank == "score_hlr" && negatives != "score_hlr")
            report(RecipeDiagnostics.ScoreHlrMismatch, where(new[] { "rank.negatives.type" }),
                $"Score-HLR ranks negatives for score_hlr sampling only, but sample.negatives.type is {negatives}: set it to score_hlr, or rank.negatives.type to none");
    }

    private static void CheckLrSteps(ResolvedValues v, Reporter report, Func<string[], SourceSpan> where)
    {
        if (v.Text("train.schedule") != "step") return;
        int[] steps = (int[])v.Find("train.lr_steps")!.Value!;
        for (int i = 0; i < steps.Length; i++)
        {
            if (i > 0 && steps[i] <= steps[i - 1])
            {
                report(RecipeDiagnostics.BadLrSteps, where(new[] { "train.lr_steps" }), $"train.lr_steps must be ascending: {steps[i]} follows {steps[i - 1]}");
                return;
            }
        }
    }
}
