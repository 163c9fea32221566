using Pisa.Training.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

public class ProposalGeneratorTests
{
    // Anchor 1 overlaps anchor 0 by 90 / 110 = 0.82 > 0.7; anchor 3 sticks out of the 128 px image and clips to 8×8.
    private static readonly Tensor Anchors = tensor(new float[] { 0, 0, 10, 10, 1, 0, 11, 10, 50, 50, 60, 60, 120, 120, 140, 140 }).reshape(4, 4);
    private static readonly Tensor Logits = tensor(new float[] { 2, 1, 0, -1 }).reshape(1, 4);

    [Fact]
    public void Proposals_are_the_best_anchors_after_nms_clipped_and_padded()
    {
        using var proposals = ProposalGenerator.Generate(Anchors, Logits, zeros(1, 4, 4), 128, 128, new ProposalOptions(PostNmsTopK: 4));

        Assert.Equal([true, true, true, false], proposals.Mask.data<bool>().ToArray());
        Assert.Equal([0f, 0, 10, 10, 50, 50, 60, 60, 120, 120, 128, 128, 0, 0, 0, 0], proposals.Boxes.data<float>().ToArray());
        // sigmoid(2) = 0.88080, sigmoid(0) = 0.5, sigmoid(-1) = 0.26894
        float[] scores = proposals.Scores.data<float>().ToArray();
        Assert.Equal(0.88080f, scores[0], 4);
        Assert.Equal(0.5f, scores[1], 4);
        Assert.Equal(0.26894f, scores[2], 4);
    }

    [Fact]
    public void Boxes_below_the_minimum_size_and_beyond_k_are_left_out()
    {
        using var proposals = ProposalGenerator.Generate(Anchors, Logits, zeros(1, 4, 4), 128, 128, new ProposalOptions(PostNmsTopK: 3, MinSize: 9));
        Assert.Equal([true, true, false], proposals.Mask.data<bool>().ToArray());
        Assert.Equal([0f, 0, 10, 10, 50, 50, 60, 60, 0, 0, 0, 0], proposals.Boxes.data<float>().ToArray());
    }
}
