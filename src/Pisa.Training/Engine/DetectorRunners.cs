using Pisa.Evaluation.Coco;
using Pisa.Kernels;
using Pisa.Kernels.Pipeline;
using Pisa.Recipes;
using Pisa.Training.Data;
using Pisa.Training.Inference;
using Pisa.Training.Metrics;
using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Engine;

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

    /// <summary>
    /// bool <c>[B, N]</c>: the anchors whose centre lies inside each image's valid region (<see cref="DetectionBatch.ValidSizes"/>),
    /// so an anchor in a padded batch's padding is neither positive nor negative. Without padding every anchor's centre
    /// is inside (they centre on cells).
    /// </summary>
    public static Tensor ValidAnchors(Tensor anchors, DetectionBatch batch)
    {
        using var scope = NewDisposeScope();
        var sizes = batch.ValidSizes();
        var centreX = ((anchors[.., 0] + anchors[.., 2]) / 2).unsqueeze(0);
        var centreY = ((anchors[.., 1] + anchors[.., 3]) / 2).unsqueeze(0);
        return (centreX < sizes[.., 1..2]).logical_and_(centreY < sizes[.., 0..1]).MoveToOuterDisposeScope();
    }

    /// <summary>Each image's valid (height, width), for clipping its proposals.</summary>
    public static (int Height, int Width)[] ValidSizes(DetectionBatch batch) =>
        batch.Transforms.Select(t => (t.InputHeight, t.InputWidth)).ToArray();
}

/// <summary>
/// Faster R-CNN with a recipe's sample pipeline: features → RPN losses → proposals (exact NMS, no gradient) → the
/// pipeline's sampling (probing the box head without gradient when it needs scores) → box head on the sampled RoIs with
/// gradient → the pipeline's losses. The features are thinned once for the probe and the head, and the sampled RoIs'
/// features, a subset of what the probe pooled, are copied from it rather than pooled again. Detections decode the box
/// head's deltas with the pipeline's <paramref name="coder"/>.
/// </summary>
public sealed class TwoStageRunner(TwoStageDetector model, ISamplePipeline pipeline, RpnSettings rpn, BoxCoder coder) : IDetectorRunner
{
    public nn.Module Model => model;

    public void Dispose() => model.Dispose();

    public Dictionary<string, Tensor> Losses(DetectionBatch batch, Generator generator)
    {
        var levels = model.Features(batch.Images);
        StepPhases.Mark(Phase.Backbone);
        var (objectness, rpnDeltas) = model.Rpn(levels);
        var anchors = DetectorRunner.AnchorsFor(model.Anchors, batch.Images);
        var losses = RpnLoss.Compute(anchors, objectness, rpnDeltas, batch.GtBoxes, batch.GtLabels, batch.GtMask, generator,
            DetectorRunner.ValidAnchors(anchors, batch));

        var proposals = ProposalGenerator.Generate(anchors, objectness.detach(), rpnDeltas.detach(), DetectorRunner.ValidSizes(batch), new ProposalOptions(PostNmsTopK: rpn.TrainProposals));
        long b = batch.Images.shape[0];
        var sizes = batch.ValidSizes();
        var input = new TwoStageSampleInput(proposals.Boxes, proposals.Mask, batch.GtBoxes, batch.GtLabels, batch.GtMask, sizes, model.Options.NumClasses);
        StepPhases.Mark(Phase.Rpn);
        var thin = model.ThinLevels(levels);
        StepPhases.Mark(Phase.RoIExtraction);
        var probe = new BoxHeadProbe(model, thin, b);
        var sample = pipeline.Sample(input, probe, generator);
        StepPhases.Mark(Phase.Sampling);

        var rois = sample.Rois[.., 1..].reshape(b, -1, 4);
        using var probed = probe.TakeRoIFeatures();
        var roiFeatures = probed is null
            ? model.RoIExtractor.Apply(thin, rois)
            : model.RoIExtractor.Apply(thin, rois, known: SampledRows(probed, sample.CandidateIndex.reshape(b, -1)), knownMask: sample.Valid.reshape(b, -1));
        StepPhases.Count(probed is null ? "rois_pooled" : "rois_copied_from_probe", rois.shape[0] * rois.shape[1]);
        StepPhases.Mark(Phase.RoIExtraction);
        var (classLogits, deltas) = model.BoxHeadOn(roiFeatures);
        StepPhases.Mark(Phase.Heads);
        foreach (var (name, loss) in pipeline.Loss(sample, classLogits.reshape(sample.Rois.shape[0], -1), deltas.reshape(sample.Rois.shape[0], -1)))
            losses[name] = loss;
        StepPhases.Mark(Phase.Losses);
        return losses;
    }

    public List<CocoDetection> Detect(DetectionBatch batch, CategoryMap categories, ScoreIoUCorrelation scoreIoU)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var levels = model.Features(batch.Images);
        var (objectness, rpnDeltas) = model.Rpn(levels);
        var anchors = DetectorRunner.AnchorsFor(model.Anchors, batch.Images);
        var proposals = ProposalGenerator.Generate(anchors, objectness, rpnDeltas, DetectorRunner.ValidSizes(batch),
            new ProposalOptions(PostNmsTopK: rpn.TestProposals));
        var (classLogits, deltas) = model.BoxHead(levels, proposals.Boxes);
        scoreIoU.AddBoxHead(proposals.Boxes, proposals.Mask, classLogits, deltas, batch, coder);
        return DetectionDecoder.FromBoxHead(proposals.Boxes, classLogits, deltas, batch.Transforms, categories, new DecodeOptions(), proposals.Mask, coder);
    }

    /// <summary>Per image, the probed candidates' RoI features <c>[B, M, C, P, P]</c> at the sample's candidate slots <c>[B, S]</c> → <c>[B, S, C, P, P]</c>.</summary>
    private static Tensor SampledRows(Tensor probed, Tensor candidateIndex)
    {
        using var scope = NewDisposeScope();
        long b = probed.shape[0], m = probed.shape[1];
        var rows = (arange(b, ScalarType.Int64, probed.device).unsqueeze(1) * m + candidateIndex).reshape(-1);
        return probed.flatten(0, 1).index_select(0, rows).reshape([b, candidateIndex.shape[1], .. probed.shape[2..]]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The box head without gradient for Score-HLR and OHEM. The pipeline probes every candidate slot of every image
    /// (<see cref="TargetSteps.ProbeAll"/>), so the RoIs come image-major with the same count per image. The RoI
    /// features it pools are kept for the sampled RoIs (<see cref="TakeRoIFeatures"/>).
    /// </summary>
    private sealed class BoxHeadProbe(TwoStageDetector model, Tensor[] thinLevels, long batchSize) : IDetectorHeadProbe
    {
        private Tensor? roiFeatures;

        public (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            StepPhases.Mark(Phase.Sampling);
            var features = model.RoIExtractor.Apply(thinLevels, rois[.., 1..].reshape(batchSize, -1, 4));
            StepPhases.Count("rois_pooled", rois.shape[0]);
            StepPhases.Mark(Phase.ProbeRoIExtraction);
            var (classLogits, deltas) = model.BoxHeadOn(features);
            StepPhases.Mark(Phase.ProbeHead);
            roiFeatures?.Dispose();
            roiFeatures = features.DetachFromDisposeScope();
            long k = rois.shape[0];
            return (classLogits.reshape(k, -1).MoveToOuterDisposeScope(), deltas.reshape(k, -1).MoveToOuterDisposeScope());
        }

        /// <summary>The last probe's RoI features <c>[B, M, C, P, P]</c> (no gradient; the caller disposes them), or null if the pipeline did not probe.</summary>
        public Tensor? TakeRoIFeatures()
        {
            var taken = roiFeatures;
            roiFeatures = null;
            return taken;
        }
    }
}

/// <summary>The phases of a training step <see cref="StepPhases"/> reports, in step order.</summary>
public static class Phase
{
    public const string Data = "data", Backbone = "backbone+FPN", Rpn = "RPN+loss+proposals", Sampling = "sampling stage",
        ProbeRoIExtraction = "probe: RoI extraction", ProbeHead = "probe: box head", RoIExtraction = "RoI extraction",
        Heads = "heads", Losses = "losses", Backward = "backward", Optimizer = "optimizer";

    public static readonly string[] All = [Data, Backbone, Rpn, Sampling, ProbeRoIExtraction, ProbeHead, RoIExtraction, Heads, Losses, Backward, Optimizer];
}

/// <summary>RetinaNet with a recipe's single-stage pipeline: every anchor assigned, no sampling; detections decode with the
/// pipeline's <paramref name="coder"/>.</summary>
public sealed class SingleStageRunner(SingleStageDetector model, ISingleStagePipeline pipeline, BoxCoder coder) : IDetectorRunner
{
    public nn.Module Model => model;

    public void Dispose() => model.Dispose();

    public Dictionary<string, Tensor> Losses(DetectionBatch batch, Generator generator)
    {
        var levels = model.Features(batch.Images);
        StepPhases.Mark(Phase.Backbone);
        var (classLogits, deltas) = model.Head(levels);
        StepPhases.Mark(Phase.Heads);
        var anchors = DetectorRunner.AnchorsFor(model.Anchors, batch.Images);
        long b = batch.Images.shape[0], n = anchors.shape[0];
        var input = new SingleStageInput(anchors.unsqueeze(0).expand(b, n, 4), DetectorRunner.ValidAnchors(anchors, batch),
            batch.GtBoxes, batch.GtLabels, batch.GtMask, model.Options.NumClasses);
        var losses = new Dictionary<string, Tensor>(pipeline.Loss(input, classLogits, deltas));
        StepPhases.Mark(Phase.Losses); // the single-stage pipeline assigns and weighs inside its loss
        return losses;
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
