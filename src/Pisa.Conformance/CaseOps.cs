using System.Text.Json;
using Pisa.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Conformance;

/// <summary>What an op produced for one named output.</summary>
public abstract record Produced;

/// <summary>A tensor output.</summary>
public sealed record ProducedTensor(Tensor Value) : Produced;

/// <summary>Ordered index groups (nms_match).</summary>
public sealed record ProducedGroups(long[][] Groups) : Produced;

/// <summary>The values (IoU or gt id) of the sampled items, counted per interval or key by the runner.</summary>
public sealed record ProducedSample(double[] Values) : Produced;

/// <summary>The inputs and params of one case, read with errors that name the key at fault.</summary>
public sealed class CaseContext(ConformanceCase c)
{
    /// <summary>The case being run.</summary>
    public ConformanceCase Case => c;

    /// <summary>A fixed seed: a random op's counts are fixed by the case, and a rerun draws the same.</summary>
    public Generator Generator { get; } = new(0);

    /// <summary>The case's mode: <c>"compat": "corrected"</c> in params, else <see cref="Compat.Mmdet"/>.</summary>
    public Compat Compat => String("compat", "mmdet") switch
    {
        "mmdet" => Compat.Mmdet,
        "corrected" => Compat.Corrected,
        var other => throw new MalformedCaseException($"params.compat is '{other}', not mmdet or corrected"),
    };

    /// <summary>Whether the case has the input.</summary>
    public bool Has(string name) => c.Inputs.ContainsKey(name);

    /// <summary>An input as a tensor of its own dtype.</summary>
    public Tensor Input(string name)
    {
        if (!c.Inputs.TryGetValue(name, out var array)) throw new MalformedCaseException($"missing input '{name}'");
        return ToTensor(array);
    }

    /// <summary>An input that must have the given rank and, where given, sizes (-1 = any).</summary>
    public Tensor Input(string name, params long[] shape)
    {
        var t = Input(name);
        if (t.dim() != shape.Length || shape.Where((d, i) => d >= 0 && d != t.shape[i]).Any())
            throw new MalformedCaseException($"input '{name}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", shape.Select(d => d < 0 ? "*" : d.ToString()))}]");
        return t;
    }

    /// <summary>A number param, or <paramref name="fallback"/> when absent.</summary>
    public double Double(string key, double? fallback = null)
    {
        if (c.Params.TryGetProperty(key, out var v))
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new MalformedCaseException($"params.{key} is not a number");
        return fallback ?? throw new MalformedCaseException($"missing params.{key}");
    }

    /// <summary>A number param that may be absent or null.</summary>
    public double? OptionalDouble(string key) =>
        c.Params.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? Double(key) : null;

    /// <summary>An integer param.</summary>
    public long Long(string key, long? fallback = null)
    {
        double value = Double(key, fallback);
        return value == Math.Floor(value) ? (long)value : throw new MalformedCaseException($"params.{key} is not an integer");
    }

    /// <summary>A bool param.</summary>
    public bool Bool(string key, bool fallback)
    {
        if (!c.Params.TryGetProperty(key, out var v)) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new MalformedCaseException($"params.{key} is not a bool"),
        };
    }

    /// <summary>A string param.</summary>
    public string String(string key, string fallback)
    {
        if (!c.Params.TryGetProperty(key, out var v)) return fallback;
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new MalformedCaseException($"params.{key} is not a string");
    }

    /// <summary>A list-of-numbers param (e.g. means, stds, max_shape), or <paramref name="fallback"/>.</summary>
    public double[]? Doubles(string key, double[]? fallback = null, int? length = null)
    {
        if (!c.Params.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number))
            throw new MalformedCaseException($"params.{key} is not a list of numbers");
        var values = v.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        if (length is int n && values.Length != n) throw new MalformedCaseException($"params.{key} has {values.Length} numbers, expected {n}");
        return values;
    }

    /// <summary>An object param (e.g. loss_bbox).</summary>
    public JsonElement? Object(string key) =>
        c.Params.TryGetProperty(key, out var v) ? v.ValueKind == JsonValueKind.Object ? v : throw new MalformedCaseException($"params.{key} is not an object") : null;

    private static Tensor ToTensor(CaseArray array) => array.Dtype switch
    {
        "float32" => tensor(array.Data.Select(x => (float)x).ToArray(), array.Shape, float32),
        "float64" => tensor(array.Data, array.Shape, float64),
        "int64" => tensor(array.Data.Select(x => (long)x).ToArray(), array.Shape, int64),
        _ => tensor(array.Data.Select(x => x != 0).ToArray(), array.Shape),
    };
}

/// <summary>Every op of FORMAT.md's table (plus <c>giou_loss</c>), calling the kernels on a batch of one image.</summary>
public static class CaseOps
{
    /// <summary>The ops this runner knows, by name.</summary>
    public static IReadOnlyDictionary<string, Func<CaseContext, Dictionary<string, Produced>>> All { get; } =
        new Dictionary<string, Func<CaseContext, Dictionary<string, Produced>>>
        {
            ["bbox_overlaps"] = BboxOverlaps,
            ["delta_xywh_encode"] = c => One("deltas", Coder(c).Encode(c.Input("proposals", -1, 4), c.Input("gt", -1, 4))),
            ["delta_xywh_decode"] = DeltaDecode,
            ["max_iou_assign"] = MaxIouAssign,
            ["nms_match"] = NmsMatch,
            ["iou_hlr"] = IoUHlr,
            ["isr_p"] = IsrP,
            ["carl_loss"] = CarlLoss,
            ["score_hlr_neg"] = ScoreHlrNeg,
            ["iou_balanced_neg_sample"] = IoUBalancedNegSample,
            ["instance_balanced_pos_sample"] = InstanceBalancedPosSample,
            ["smooth_l1_loss"] = c => One("loss", Loss.SmoothL1(c.Input("pred"), c.Input("target"), c.Double("beta", 1.0))),
            ["l1_loss"] = c => One("loss", Loss.L1(c.Input("pred"), c.Input("target"))),
            ["balanced_l1_loss"] = c => One("loss", Loss.BalancedL1(c.Input("pred"), c.Input("target"), c.Double("alpha", 0.5), c.Double("gamma", 1.5), c.Double("beta", 1.0))),
            ["sigmoid_focal_loss"] = c => One("loss", Loss.SigmoidFocal(c.Input("pred", -1, -1), c.Input("target", -1), c.Double("gamma", 2.0), c.Double("alpha", 0.25))),
            ["cross_entropy"] = c => One("loss", Loss.CrossEntropy(c.Input("cls_score", -1, -1), c.Input("labels", -1))),
            ["giou_loss"] = c => One("loss", Loss.GIoU(c.Input("pred", -1, 4), c.Input("target", -1, 4))),
        };

    private static Dictionary<string, Produced> One(string name, Tensor value) => new() { [name] = new ProducedTensor(value) };

    /// <summary>The case's box coder: its <c>means</c>, <c>stds</c> and <c>wh_ratio_clip</c>, each defaulting to the R-CNN
    /// coder's (FORMAT.md).</summary>
    private static BoxCoder Coder(CaseContext c) => new(
        c.Doubles("means", [.. BoxCoder.Rcnn.Means], 4)!, c.Doubles("stds", [.. BoxCoder.Rcnn.Stds], 4)!,
        c.Double("wh_ratio_clip", BoxCoder.Rcnn.WhRatioClip));

    private static Dictionary<string, Produced> BboxOverlaps(CaseContext c)
    {
        var mode = c.String("mode", "iou") switch
        {
            "iou" => OverlapMode.IoU,
            "iof" => OverlapMode.IoF,
            var other => throw new MalformedCaseException($"params.mode is '{other}', not iou or iof"),
        };
        var a = c.Input("a", -1, 4);
        var b = c.Input("b", -1, 4);
        if (!c.Bool("aligned", false)) return One("overlaps", Boxes.Overlaps(a, b, mode));
        if (a.shape[0] != b.shape[0]) throw new MalformedCaseException($"aligned overlaps need as many boxes in 'a' ({a.shape[0]}) as in 'b' ({b.shape[0]})");
        return One("overlaps", Boxes.AlignedOverlaps(a, b, mode));
    }

    private static Dictionary<string, Produced> DeltaDecode(CaseContext c)
    {
        var maxShape = c.Doubles("max_shape", null, 2);
        var rois = c.Input("rois", -1, 4);
        return One("boxes", Coder(c).Decode(rois, c.Input("deltas", rois.shape[0], 4),
            maxShape is null ? null : tensor(maxShape, rois.dtype)));
    }

    private static Dictionary<string, Produced> MaxIouAssign(CaseContext c)
    {
        var boxes = c.Input("bboxes", -1, 4);
        var gts = c.Input("gt_bboxes", -1, 4);
        var gtLabels = c.Input("gt_labels", gts.shape[0]);
        var thresholds = new Assign.Thresholds(c.Double("pos_iou_thr"), c.Double("neg_iou_thr"), c.Double("min_pos_iou", 0.0),
            c.Bool("match_low_quality", true), c.Bool("gt_max_assign_all", true));
        var result = Assign.MaxIoU(gts.unsqueeze(0), boxes.unsqueeze(0), gtLabels.unsqueeze(0), ones(1, gts.shape[0], ScalarType.Bool), ones(1, boxes.shape[0], ScalarType.Bool), thresholds);
        return new()
        {
            ["gt_inds"] = new ProducedTensor(result.GtInds[0]),
            ["max_overlaps"] = new ProducedTensor(result.MaxOverlaps[0]),
            ["labels"] = new ProducedTensor(result.Labels[0]),
        };
    }

    private static Dictionary<string, Produced> NmsMatch(CaseContext c)
    {
        var boxes = c.Input("boxes", -1, 4);
        var scores = c.Input("scores", boxes.shape[0]);
        var result = Nms.Match(boxes.unsqueeze(0), scores.unsqueeze(0), ones(1, boxes.shape[0], ScalarType.Bool), c.Double("iou_thr"));
        var group = HostValues<long>(result.Group[0]);
        var position = HostValues<long>(result.PositionInGroup[0]);
        var groups = Enumerable.Range(0, group.Length).Where(i => group[i] >= 0)
            .GroupBy(i => group[i]).OrderBy(g => g.Key)
            .Select(g => g.OrderBy(i => position[i]).Select(i => (long)i).ToArray()).ToArray();
        return new() { ["groups"] = new ProducedGroups(groups) };
    }

    private static Dictionary<string, Produced> IoUHlr(CaseContext c)
    {
        var ious = c.Input("ious", -1);
        var gtIds = c.Input("pos_gt_ids", ious.shape[0]);
        var labels = c.Input("labels", ious.shape[0]);
        long classes = labels.numel() == 0 ? 1 : labels.max().item<long>() + 1;
        var positive = labels >= 0;
        return One("rank", Hlr.IoU(ious, gtIds, labels, positive, classes, c.Compat).Rank);
    }

    private static Dictionary<string, Produced> IsrP(CaseContext c)
    {
        long classes = c.Long("num_classes");
        var clsScore = c.Input("cls_score", -1, -1);
        long n = clsScore.shape[0];
        var weights = Reweight.IsrP(clsScore, c.Input("bbox_pred", n, -1), Rois(c.Input("rois")), c.Input("labels", n),
            c.Input("label_weights", n), c.Input("bbox_targets", n, 4), c.Input("pos_gt_ids", n), classes,
            new ReweightSettings(c.Double("k", 2.0), c.Double("bias", 0.0)), Coder(c), c.Compat, c.Bool("sigmoid", false));
        return One("label_weights", weights);
    }

    private static Dictionary<string, Produced> CarlLoss(CaseContext c)
    {
        var clsScore = c.Input("cls_score", -1, -1);
        long n = clsScore.shape[0];
        var avgFactor = c.OptionalDouble("avg_factor");
        var loss = Reweight.Carl(clsScore, c.Input("labels", n), c.Input("bbox_pred", n, -1), c.Input("bbox_targets", n, 4),
            c.Long("num_classes"), new ReweightSettings(c.Double("k", 1.0), c.Double("bias", 0.2)), c.Bool("sigmoid", false),
            BoxLossOf(c), avgFactor is null ? null : tensor(avgFactor.Value, clsScore.dtype));
        return One("loss_carl", loss);
    }

    private static BoxLoss BoxLossOf(CaseContext c)
    {
        if (c.Object("loss_bbox") is not JsonElement spec) return BoxLoss.SmoothL1Default;
        string type = spec.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "smooth_l1";
        double Number(string key, double fallback) =>
            !spec.TryGetProperty(key, out var v) ? fallback
            : v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new MalformedCaseException($"params.loss_bbox.{key} is not a number");
        var kind = type switch
        {
            "smooth_l1" or "SmoothL1Loss" => BoxLossKind.SmoothL1,
            "l1" or "L1Loss" => BoxLossKind.L1,
            "balanced_l1" or "BalancedL1Loss" => BoxLossKind.BalancedL1,
            _ => throw new MalformedCaseException($"params.loss_bbox.type is '{type}', not smooth_l1, l1 or balanced_l1"),
        };
        return new BoxLoss(kind, Number("beta", 1.0), Number("loss_weight", 1.0), Number("alpha", 0.5), Number("gamma", 1.5));
    }

    private static Dictionary<string, Produced> ScoreHlrNeg(CaseContext c)
    {
        var clsScore = c.Input("cls_score", -1, -1);
        long m = clsScore.shape[0];
        var settings = new ScoreHlrSettings(c.Double("score_thr", 0.05), c.Double("iou_thr", 0.5));
        var sample = Sample.ScoreHlrNegatives(ones(1, m, ScalarType.Bool), clsScore.unsqueeze(0), c.Input("bbox_pred", m, -1).unsqueeze(0),
            Rois(c.Input("rois")).unsqueeze(0), full(1, c.Long("num_expected"), int64), settings, Coder(c), c.Compat, c.Generator);
        var weights = Reweight.IsrN(sample, new ReweightSettings(c.Double("k", 0.5), c.Double("bias", 0.0)));
        var chosen = sample.Selected[0].nonzero().squeeze(-1);
        var inOrder = chosen.index_select(0, sample.Order[0].index_select(0, chosen).argsort());
        return new()
        {
            ["selected"] = new ProducedTensor(inOrder),
            ["neg_label_weights"] = new ProducedTensor(weights[0].index_select(0, inOrder)),
        };
    }

    private static Dictionary<string, Produced> IoUBalancedNegSample(CaseContext c)
    {
        var maxOverlaps = c.Input("max_overlaps", -1);
        var negatives = c.Input("neg_mask", maxOverlaps.shape[0]).to(ScalarType.Bool);
        // Only negatives (0) and "not negative" matter here; the others pass as positives to set the top IoU edge.
        var gtInds = where(negatives, zeros_like(negatives, ScalarType.Int64), ones_like(negatives, ScalarType.Int64)).unsqueeze(0);
        var settings = new IoUBalancedSettings(c.Double("floor_thr", -1), c.Double("floor_fraction", 0), (int)c.Long("num_bins", 3));
        var picked = Sample.IoUBalancedNegatives(gtInds, maxOverlaps.unsqueeze(0), ones_like(gtInds, ScalarType.Bool),
            full(1, c.Long("num_expected"), int64), settings, firstCall: !c.Bool("second_call", false), c.Compat, c.Generator);
        return new() { ["counts"] = new ProducedSample(HostValues<double>(maxOverlaps.to(float64).masked_select(picked[0]))) };
    }

    private static Dictionary<string, Produced> InstanceBalancedPosSample(CaseContext c)
    {
        var gtInds = c.Input("gt_inds", -1);
        var picked = Sample.InstanceBalancedPositives(gtInds.unsqueeze(0), c.Long("num_expected"), c.Compat, c.Generator);
        return new() { ["counts"] = new ProducedSample(HostValues<double>(gtInds.to(float64).masked_select(picked[0]))) };
    }

    /// <summary>
    /// A tensor's values on the host, row-major. An empty tensor (a zero in its shape, legal in pisa-case/1) gives an
    /// empty array: TorchSharp's accessor throws on one with more than one dimension.
    /// </summary>
    internal static T[] HostValues<T>(Tensor tensor) where T : unmanaged =>
        tensor.numel() == 0 ? [] : tensor.cpu().contiguous().data<T>().ToArray();

    /// <summary>RoIs may come as [N,4] boxes or [N,5] (image index first).</summary>
    private static Tensor Rois(Tensor rois) =>
        rois.dim() == 2 && rois.shape[1] == 5 ? rois[TensorIndex.Colon, TensorIndex.Slice(1)]
        : rois.dim() == 2 && rois.shape[1] == 4 ? rois
        : throw new MalformedCaseException($"input 'rois' has shape [{string.Join(",", rois.shape)}], expected [N,4] or [N,5]");
}
