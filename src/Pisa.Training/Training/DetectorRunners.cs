using Pisa.Evaluation.Coco;
using Pisa.Kernels;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Inference;
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
        ISamplePipeline twoStage and IRecipePipeline p => new TwoStageRunner(new TwoStageDetector(options), twoStage, recipe.Rpn!, p.Coder),
        ISingleStagePipeline singleStage => new SingleStageRunner(new SingleStageDetector(options), singleStage, singleStage.Coder),
        var other => throw new InvalidOperationException($"pipeline {pipeline.TypeName} is neither two-stage nor single-stage ({other.GetType().Name})"),
    };

    /// <summary>The anchors <c>[N, 4]</c> of a batch's input size.</summary>
    internal static Tensor AnchorsFor(AnchorGenerator anchors, Tensor images) =>
        anchors.ForImage((int)images.shape[2], (int)images.shape[3], images.device);
}

/// <summary>
/// Faster R-CNN with a recipe's sample pipeline: features → RPN losses → proposals (exact NMS, no gradient) → the
/// pipeline's sampling (probing the box head without gradient when it needs scores) → box head on the sampled RoIs with
/// gradient → the pipeline's losses. Detections decode the box head's deltas with the pipeline's <paramref name="coder"/>.
/// </summary>
public sealed class TwoStageRunner(TwoStageDetector model, ISamplePipeline pipeline, RpnSettings rpn, BoxCoder coder) : IDetectorRunner
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
        var proposals = ProposalGenerator.Generate(anchors, objectness, rpnDeltas, (int)batch.Images.shape[2], (int)batch.Images.shape[3],
            new ProposalOptions(PostNmsTopK: rpn.TestProposals));
        var (classLogits, deltas) = model.BoxHead(levels, proposals.Boxes);
        scoreIoU.AddBoxHead(proposals.Boxes, proposals.Mask, classLogits, deltas, batch, coder);
        return DetectionDecoder.FromBoxHead(proposals.Boxes, classLogits, deltas, batch.Transforms, categories, new DecodeOptions(), proposals.Mask, coder);
    }

    /// <summary>
    /// The box head without gradient for Score-HLR and OHEM. The pipeline probes every candidate slot of every image
    /// (<see cref="TargetSteps.ProbeAll"/>), so the RoIs come image-major with the same count per image.
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

/// <summary>RetinaNet with a recipe's single-stage pipeline: every anchor assigned, no sampling; detections decode with the
/// pipeline's <paramref name="coder"/>.</summary>
public sealed class SingleStageRunner(SingleStageDetector model, ISingleStagePipeline pipeline, BoxCoder coder) : IDetectorRunner
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

        scoreIoU.AddDenseHead(anchors, classLogits, deltas, batch, coder);
        return DetectionDecoder.FromDenseHead(anchors, classLogits, deltas, batch.Transforms, categories, new DecodeOptions(), coder);
    }
}
