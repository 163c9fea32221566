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

        if (!singleStage) CheckSampling(v, report, Where);
        CheckClassifier(v, singleStage, report, Where);

        if (v.IsOn("loss.carl") && v.Text("loss.box.type") == "none")
            report(RecipeDiagnostics.CarlWithoutBoxLoss, Where("loss.box.type", "loss.carl"));

        if (v.Number("assign.neg_iou") > v.Number("assign.pos_iou"))
            report(RecipeDiagnostics.AssignThresholds, Where("assign.neg_iou", "assign.pos_iou"),
                v.Find("assign.neg_iou")!.Canonical, v.Find("assign.pos_iou")!.Canonical);

        CheckLrSteps(v, report, Where);
        CheckScale(v, report, Where);
    }

    /// <summary>train.scale is empty or [long, short] with long >= short; train.multiscale needs it.</summary>
    private static void CheckScale(ResolvedValues v, Reporter report, Func<string[], SourceSpan> where)
    {
        var scale = v.Find("train.scale")!;
        int[] limits = (int[])scale.Value!;
        if (limits.Length != 0 && (limits.Length != 2 || limits[0] < limits[1]))
            report(RecipeDiagnostics.OutOfRange, where(new[] { "train.scale" }), "train.scale", scale.Canonical,
                "[long, short] with long >= short, e.g. [1333, 800], or [] for the square image_size resize");
        var multiscale = v.Find("train.multiscale")!;
        if (((int[])multiscale.Value!).Length != 0 && limits.Length == 0)
            report(RecipeDiagnostics.OutOfRange, where(new[] { "train.multiscale" }), "train.multiscale", multiscale.Canonical,
                "[] without train.scale: multi-scale short sides need train.scale's long-side limit");
    }

    private static void CheckSampling(ResolvedValues v, Reporter report, Func<string[], SourceSpan> where)
    {
        string positives = v.Text("sample.positives.type"), negatives = v.Text("sample.negatives.type");
        if ((positives == "ohem") != (negatives == "ohem"))
            report(RecipeDiagnostics.OhemOneSided, where(new[] { positives == "ohem" ? "sample.positives.type" : "sample.negatives.type" }));
    }

    /// <summary>
    /// The kernels' heads: a two-stage box head is a softmax (cross entropy), a single-stage head a sigmoid (focal loss).
    /// This also covers what a focal loss would break in two-stage sampling (OHEM's per-sample loss, Score-HLR's softmax).
    /// </summary>
    private static void CheckClassifier(ResolvedValues v, bool singleStage, Reporter report, Func<string[], SourceSpan> where)
    {
        string cls = v.Text("loss.cls.type");
        if (!singleStage && cls == "focal")
            report(RecipeDiagnostics.ClassifierForDetector, where(new[] { "loss.cls.type" }),
                "a focal classification loss in a two-stage box head is not supported by the kernels yet; use cross_entropy");
        else if (singleStage && cls == "cross_entropy")
            report(RecipeDiagnostics.ClassifierForDetector, where(new[] { "loss.cls.type" }),
                "a single-stage head uses a sigmoid focal loss; cross_entropy is not supported there yet: set loss.cls.type: focal");
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
