using Pisa.Evaluation.Coco;
using Pisa.Kernels;
using Pisa.Kernels.Pipeline;
using Pisa.Training.Data;
using Pisa.Training.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

/// <summary>
/// Training encodes box targets inside the generated pipeline; inference decodes the head's deltas in
/// <see cref="DetectionDecoder"/> with the pipeline's <see cref="IRecipePipeline.Coder"/>, as the runner does. A head that
/// predicts exactly its training target must therefore detect exactly the ground truth.
/// </summary>
public class BoxCoderRoundTripTests
{
    private static readonly CategoryMap Three = new([new CocoCategory(1, "a", null), new CocoCategory(2, "b", null), new CocoCategory(3, "c", null)]);
    private static readonly ImageTransform Identity = new(7, 128, 128, 1, 1, Flipped: false, 128, 128);
    private static readonly float[] Gt = [20, 30, 70, 90];
    private const long GtLabel = 1;

    [Fact]
    public void A_two_stage_target_encoded_in_training_decodes_to_its_ground_truth_at_inference()
    {
        using var _ = NewDisposeScope();
        var (_, info) = TrainingFixtures.Recipe("faster-rcnn");
        var pipeline = (ISamplePipeline)info.Create();
        // One proposal overlapping the gt (IoU about 0.7), padded to a second, empty slot.
        var proposal = tensor(new float[] { 24, 26, 66, 96 });
        var input = new TwoStageSampleInput(stack([proposal, zeros(4)]).view(1, 2, 4), tensor(new[] { true, false }).view(1, 2),
            tensor(Gt).view(1, 1, 4), tensor(new[] { GtLabel }).view(1, 1), tensor(new[] { true }).view(1, 1), tensor(new float[] { 128, 128 }).view(1, 2), 3);

        var sample = pipeline.Sample(input, new NoProbe(), new Generator(0));

        // The proposal's row (the prepended gt has its own, with zero targets).
        var row = ((sample.Labels == GtLabel) & (sample.Rois[.., 1..] == proposal).all(-1)).nonzero().view(-1)[0];
        var target = sample.BboxTargets[row];
        var deltas = zeros(1, 1, 4 * 3);
        deltas[0, 0, TensorIndex.Slice(4 * GtLabel, 4 * GtLabel + 4)] = target;
        var logits = tensor(new float[] { 0, 5, 0, 0 }).view(1, 1, 4);

        var detections = DetectionDecoder.FromBoxHead(proposal.view(1, 1, 4), logits, deltas, [Identity], Three,
            new DecodeOptions(MaxPerImage: 1), coder: ((IRecipePipeline)pipeline).Coder);

        AssertIsTheGt(Assert.Single(detections));
    }

    [Fact]
    public void A_single_stage_head_with_zero_box_loss_decodes_to_its_ground_truth_at_inference()
    {
        using var _ = NewDisposeScope();
        var (_, info) = TrainingFixtures.Recipe("retinanet");
        var pipeline = (ISingleStagePipeline)info.Create();
        var anchor = tensor(new float[] { 16, 32, 72, 88 }).view(1, 1, 4);
        var input = new SingleStageInput(anchor, tensor(new[] { true }).view(1, 1), tensor(Gt).view(1, 1, 4), tensor(new[] { GtLabel }).view(1, 1),
            tensor(new[] { true }).view(1, 1), 3);
        var logits = tensor(new float[] { -5, 5, -5 }).view(1, 1, 3);
        // The deltas of the pipeline's own coder: the box loss, computed from the targets training encodes, is zero there.
        var deltas = pipeline.Coder.Encode(anchor, tensor(Gt).view(1, 1, 4));

        var boxLoss = pipeline.Loss(input, logits, deltas)["loss_bbox"].item<float>();
        var detections = DetectionDecoder.FromDenseHead(anchor.view(1, 4), logits, deltas, [Identity], Three,
            new DecodeOptions(MaxPerImage: 1), coder: pipeline.Coder);

        Assert.Equal(0f, boxLoss, 6);
        AssertIsTheGt(Assert.Single(detections));
    }

    private static void AssertIsTheGt(CocoDetection detection)
    {
        Assert.Equal(2L, detection.CategoryId); // label 1
        double[] xywh = [Gt[0], Gt[1], Gt[2] - Gt[0], Gt[3] - Gt[1]];
        for (int i = 0; i < 4; i++) Assert.Equal(xywh[i], detection.Bbox[i], 3);
    }

    /// <summary>faster-rcnn's samplers never probe the box head.</summary>
    private sealed class NoProbe : IDetectorHeadProbe
    {
        public (Tensor ClsScore, Tensor BboxPred) Probe(Tensor rois) => throw new InvalidOperationException("faster-rcnn does not probe");
    }
}
