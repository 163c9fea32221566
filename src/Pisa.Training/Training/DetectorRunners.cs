using Pisa.Evaluation.Coco;
using Pisa.Kernels;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Inference;
using Pisa.Training.Interim;
using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Training;

/// <summary>A detector with its recipe pipeline: the training losses of a batch and its detections.</summary>
public interface IDetectorRunner : IDisposable
{
    nn.Module Model { get; }

    /// <summary>Named scalar losses of one batch (with gradient); every random draw comes from <paramref name="generator"/>.</summary>
    Dictionary<string, Tensor> Losses(DetectionBatch batch, Generator generator);

    /// <summary>
    /// Final detections of a batch, in original image coordinates and category ids (no gradient); the batch's
    /// candidates (before score threshold and NMS) also go to <paramref name="scoreIoU"/>.
    /// </summary>
    List<CocoDetection> Detect(DetectionBatch batch, CategoryMap categories, ScoreIoUCorrelation scoreIoU);
}

/// <summary>Builds the runner a recipe asks for, with a fresh pipeline from the compiled catalog.</summary>
public static class DetectorRunner
{
    public static IDetectorRunner Create(Recipe recipe, PipelineInfo pipeline, DetectorOptions options) => pipeline.Create() switch
    {
        ISamplePipeline twoStage => new TwoStageRunner(new TwoStageDetector(options), twoStage, recipe.Rpn!),
        ISingleStagePipeline singleStage => new SingleStageRunner(new SingleStageDetector(options), singleStage),
        var other => throw new InvalidOperationException($"pipeline {pipeline.TypeName} is neither two-stage nor single-stage ({other.GetType().Name})"),
    };

    /// <summary>The anchors <c>[N, 4]</c> of a batch's input size.</summary>
    internal static Tensor AnchorsFor(AnchorGenerator anchors, Tensor images) =>
        anchors.ForImage((int)images.shape[2], (int)images.shape[3], images.device);
}

/// <summary>
/// Faster R-CNN with a recipe's sample pipeline: features → RPN losses → proposals (exact NMS, no gradient) → the
/// pipeline's sampling (probing the box head without gradient when it needs scores) → box head on the sampled RoIs with
/// gradient → the pipeline's losses.
/// </summary>
public sealed class TwoStageRunner(TwoStageDetector model, ISamplePipeline pipeline, RpnSettings rpn) : IDetectorRunner
{
    public nn.Module Model => model;

    public void Dispose() => model.Dispose();

    public Dictionary<string, Tensor> Losses(DetectionBatch batch, Generator generator)
    {
        var levels = model.Features(batch.Images);
        var (objectness, rpnDeltas) = model.Rpn(levels);
        var anchors = DetectorRunner.AnchorsFor(model.Anchors, batch.Images);
        var losses = RpnLoss.Compute(anchors, objectness, rpnDeltas, batch.GtBoxes, batch.GtLabels, batch.GtMask, generator);

        var (h, w) = ((int)batch.Images.shape[2], (int)batch.Images.shape[3]);
        var proposals = ProposalGenerator.Generate(anchors, objectness.detach(), rpnDeltas.detach(), h, w, new ProposalOptions(PostNmsTopK: rpn.TrainProposals));
        long b = batch.Images.shape[0];
        var sizes = tensor(new float[] { h, w }, device: batch.Images.device).expand(b, 2);
        var input = new TwoStageSampleInput(proposals.Boxes, proposals.Mask, batch.GtBoxes, batch.GtLabels, batch.GtMask, sizes, model.Options.NumClasses);
        var sample = pipeline.Sample(input, new BoxHeadProbe(model, levels, b), generator);

        var (classLogits, deltas) = model.BoxHead(levels, sample.Rois[.., 1..].reshape(b, -1, 4));
        foreach (var (name, loss) in pipeline.Loss(sample, classLogits.reshape(sample.Rois.shape[0], -1), deltas.reshape(sample.Rois.shape[0], -1)))
            losses[name] = loss;
        return losses;
    }

    public List<CocoDetection> Detect(DetectionBatch batch, CategoryMap categories, ScoreIoUCorrelation scoreIoU)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var levels = model.Features(batch.Images);
        var (objectness, rpnDeltas) = model.Rpn(levels);
        var anchors = DetectorRunner.AnchorsFor(model.Anchors, batch.Images);
        var (h, w) = ((int)batch.Images.shape[2], (int)batch.Images.shape[3]);
        var proposals = ProposalGenerator.Generate(anchors, objectness, rpnDeltas, h, w, new ProposalOptions(PostNmsTopK: rpn.TestProposals));
        var (classLogits, deltas) = model.BoxHead(levels, proposals.Boxes);

        // Class-specific regression: each proposal is compared with each ground truth through the box regressed for that
        // gt's class (gathered straight from [B, K, C, 4]: no [B, K, G, 4C] copy, which COCO's 80 classes would make large).
        long b = proposals.Boxes.shape[0], k = proposals.Boxes.shape[1], g = batch.GtBoxes.shape[1], c = categories.Count;
        var gtClass = batch.GtLabels.clamp(0, c - 1).view(b, 1, g, 1).expand(b, k, g, 4);
        var deltasPerGt = deltas.reshape(b, k, c, 4).gather(2, gtClass);                                                            // [B, K, G, 4]
        var regressed = BoxOps.ClipToImage(BoxOps.DecodeDeltas(proposals.Boxes.unsqueeze(2), deltasPerGt, BoxOps.RcnnStds), h, w); // [B, K, G, 4]
        var probabilities = classLogits.softmax(-1)[.., .., ..(int)c];                                                              // background last
        scoreIoU.Add(Boxes.AlignedOverlaps(regressed, batch.GtBoxes.unsqueeze(1)), probabilities, proposals.Mask, batch.GtLabels, batch.GtMask);

        return DetectionDecoder.FromBoxHead(proposals.Boxes, classLogits, deltas, batch.Transforms, categories, new DecodeOptions(), proposals.Mask);
    }

    /// <summary>
    /// The box head without gradient for Score-HLR and OHEM. The pipeline probes every candidate slot of every image
    /// (<see cref="PipelineSteps.ProbeAll"/>), so the RoIs come image-major with the same count per image.
    /// </summary>
    private sealed class BoxHeadProbe(TwoStageDetector model, Tensor[] levels, long batchSize) : IDetectorHeadProbe
    {
        public (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (classLogits, deltas) = model.BoxHead(levels, rois[.., 1..].reshape(batchSize, -1, 4));
            long k = rois.shape[0];
            return (classLogits.reshape(k, -1).MoveToOuterDisposeScope(), deltas.reshape(k, -1).MoveToOuterDisposeScope());
        }
    }
}

/// <summary>RetinaNet with a recipe's single-stage pipeline: every anchor assigned, no sampling.</summary>
public sealed class SingleStageRunner(SingleStageDetector model, ISingleStagePipeline pipeline) : IDetectorRunner
{
    public nn.Module Model => model;

    public void Dispose() => model.Dispose();

    public Dictionary<string, Tensor> Losses(DetectionBatch batch, Generator generator)
    {
        var (classLogits, deltas) = model.forward(batch.Images);
        var anchors = DetectorRunner.AnchorsFor(model.Anchors, batch.Images);
        long b = batch.Images.shape[0], n = anchors.shape[0];
        var input = new SingleStageInput(anchors.unsqueeze(0).expand(b, n, 4), ones(b, n, ScalarType.Bool, anchors.device),
            batch.GtBoxes, batch.GtLabels, batch.GtMask, model.Options.NumClasses);
        return new Dictionary<string, Tensor>(pipeline.Loss(input, classLogits, deltas));
    }

    public List<CocoDetection> Detect(DetectionBatch batch, CategoryMap categories, ScoreIoUCorrelation scoreIoU)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (classLogits, deltas) = model.forward(batch.Images);
        var anchors = DetectorRunner.AnchorsFor(model.Anchors, batch.Images);

        var (h, w) = ((int)batch.Images.shape[2], (int)batch.Images.shape[3]);
        var regressed = BoxOps.ClipToImage(BoxOps.DecodeDeltas(anchors, deltas, BoxOps.UnitStds), h, w);                           // [B, N, 4]
        var candidates = ones(regressed.shape[0], regressed.shape[1], ScalarType.Bool, regressed.device);
        scoreIoU.Add(Boxes.Overlaps(regressed, batch.GtBoxes), classLogits.sigmoid(), candidates, batch.GtLabels, batch.GtMask);

        return DetectionDecoder.FromDenseHead(anchors, classLogits, deltas, batch.Transforms, categories, new DecodeOptions());
    }
}
