using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>
/// Keys that older recipes wrote and the language no longer has. The <c>rank:</c> section repeated decisions made
/// elsewhere: IoU-HLR ranks the positives exactly when ISR-P is on, and Score-HLR ranks the negatives exactly when
/// <c>sample.negatives.type</c> is <c>score_hlr</c>. Each decision is now made once, by the stage the rank serves. A
/// recipe (or <c>--set</c>, or a variant axis) that still writes <c>rank:</c> loads, with a located warning per key; the
/// Score-HLR thresholds move to <c>sample.negatives</c>, where a value written there wins.
/// </summary>
internal static class DeprecatedKeys
{
    /// <summary>Old path → where its value is read now, or null when the value is implied and ignored.</summary>
    public static IReadOnlyDictionary<string, string?> Replacements => RecipeKeys.Deprecated;

    /// <summary>The warning's advice for one old key.</summary>
    public static string Advice(string path) => path switch
    {
        "rank.positives.type" => "IoU-HLR ranks the positives whenever ISR-P (loss.cls.isr) is on, and only then; remove it",
        "rank.negatives.type" => "Score-HLR ranks the negatives whenever sample.negatives.type is score_hlr, and only then; remove it",
        _ => $"write {Replacements[path]} instead (this value is read from there)",
    };

    /// <summary>The tree without its <c>rank:</c> section, each key of it reported, the thresholds moved to <c>sample.negatives</c>.</summary>
    public static MapNode Migrate(MapNode root, StageRules.Reporter report)
    {
        if (root.Find("rank") is not MapEntry rank) return root;
        var moved = new List<LocatedSetting>();
        foreach (var (path, entry) in Leaves(rank, "rank"))
        {
            if (!Replacements.TryGetValue(path, out string? target))
            {
                string parent = path.Substring(0, path.LastIndexOf('.'));
                report(RecipeDiagnostics.UnknownKey, entry.KeySpan, entry.Key, $"'{parent}'",
                    "; the rank: section is deprecated: ranks follow from loss.cls.isr and sample.negatives.type");
                continue;
            }
            report(RecipeDiagnostics.DeprecatedKey, entry.KeySpan, path, Advice(path));
            if (target is not null) moved.Add(new LocatedSetting(target, entry.Value, entry.KeySpan));
        }
        MapNode rest = root.Without("rank");
        return moved.Count == 0 ? rest : (MapNode)RecipeTree.Overlay(RecipeTree.FromSettings(moved, rank.KeySpan), rest);
    }

    /// <summary>The leaf entries under a section, with their dotted paths; a section written as a single value is one leaf.</summary>
    private static IEnumerable<(string Path, MapEntry Entry)> Leaves(MapEntry entry, string path) =>
        entry.Value is MapNode map
            ? map.Entries.SelectMany(e => Leaves(e, path + "." + e.Key))
            : new[] { (path, entry) };
}
