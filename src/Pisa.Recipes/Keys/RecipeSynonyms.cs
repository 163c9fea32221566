using System;
using System.Collections.Generic;

namespace Pisa.Recipes;

/// <summary>
/// The one table of other names for our keys and values, mostly mmdetection's (a recipe often starts as a copy of an
/// mmdetection config). "Did you mean" hints look here before they measure edit distance, for keys, names and bases alike.
/// </summary>
public static class RecipeSynonyms
{
    /// <summary>Their name → ours (a key name or a value name; the hint offers it only where ours is a candidate).</summary>
    public static IReadOnlyDictionary<string, string> Table { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        // assign (mmdetection's MaxIoUAssigner)
        ["pos_iou_thr"] = "pos_iou",
        ["neg_iou_thr"] = "neg_iou",
        ["min_pos_iou_thr"] = "min_pos_iou",
        ["min_pos_iou"] = "min_pos_iou",
        ["match_low_quality_matches"] = "match_low_quality",
        // sample
        ["RandomSampler"] = "random",
        ["OHEMSampler"] = "ohem",
        ["InstanceBalancedPosSampler"] = "instance_balanced",
        ["IoUBalancedNegSampler"] = "iou_balanced",
        ["ScoreHLRSampler"] = "score_hlr",
        ["sampler"] = "sample",
        ["assigner"] = "assign",
        // loss
        ["loss_cls"] = "cls",
        ["loss_bbox"] = "box",
        ["bbox"] = "box",
        ["isr_p"] = "isr",
        ["CrossEntropyLoss"] = "cross_entropy",
        ["ce"] = "cross_entropy",
        ["FocalLoss"] = "focal",
        ["sigmoid_focal"] = "focal",
        ["L1Loss"] = "l1",
        ["SmoothL1Loss"] = "smooth_l1",
        ["BalancedL1Loss"] = "balanced_l1",
        // compat and train
        ["mmdetection"] = "mmdet",
        ["learning_rate"] = "lr",
        ["base_lr"] = "lr",
        ["max_epochs"] = "epochs",
        ["total_epochs"] = "epochs",
        ["batch_size"] = "batch",
        ["samples_per_gpu"] = "batch",
        ["step"] = "lr_steps",
        ["steps"] = "lr_steps",
        ["policy"] = "schedule",
        ["cos"] = "cosine",
        ["CosineAnnealing"] = "cosine",
        ["fixed"] = "constant",
    };

    /// <summary>Ours for <paramref name="word"/> when it is among <paramref name="candidates"/>, else null.</summary>
    public static string? Ours(string word, IEnumerable<string> candidates)
    {
        if (!Table.TryGetValue(word, out string? ours)) return null;
        foreach (string candidate in candidates)
            if (candidate == ours && candidate != word) return ours;
        return null;
    }
}
