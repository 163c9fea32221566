using static TorchSharp.torch;

namespace Pisa.Kernels.Pipeline;

/// <summary>What every generated pipeline says about itself.</summary>
public interface IRecipePipeline
{
    /// <summary>The recipe's name (<c>pisa-faster-rcnn</c>).</summary>
    string RecipeName { get; }

    /// <summary>The variant point's generated name, or null for a recipe without variants.</summary>
    string? VariantName { get; }

    /// <summary>The coder the pipeline encodes its box targets with: the head's deltas decode with the same one.</summary>
    BoxCoder Coder { get; }
}

/// <summary>
/// A generated single-stage (RetinaNet-style) pipeline: every anchor assigned, sigmoid focal loss, optional ISR-P and CARL.
/// </summary>
public interface ISingleStagePipeline : IRecipePipeline
{
    /// <summary>The named losses (<c>loss_cls</c>, <c>loss_bbox</c>, <c>loss_carl</c> when on) of one batch.</summary>
    /// <param name="clsScore">[B, A, C] sigmoid logits.</param>
    /// <param name="bboxPred">[B, A, 4] deltas.</param>
    IReadOnlyDictionary<string, Tensor> Loss(SingleStageInput input, Tensor clsScore, Tensor bboxPred);
}

/// <summary>One entry of a generated catalog: a pipeline, the recipe it came from and how to make one.</summary>
/// <param name="Recipe">The recipe's name.</param>
/// <param name="Variant">The variant point's generated name, or null.</param>
/// <param name="TypeName">The generated type's full name.</param>
/// <param name="TwoStage">True for <see cref="ISamplePipeline"/>, false for <see cref="ISingleStagePipeline"/>.</param>
/// <param name="ResolvedRecipe">The resolved recipe (canonical YAML) the pipeline was generated from.</param>
/// <param name="Create">Makes a new pipeline (each keeps its own sampler state, e.g. quirk Q2).</param>
public sealed record PipelineInfo(string Recipe, string? Variant, string TypeName, bool TwoStage, string ResolvedRecipe, Func<IRecipePipeline> Create)
{
    /// <summary>The name a user picks it by: the variant's name, or the recipe's.</summary>
    public string Name => Variant ?? Recipe;
}

/// <summary>Small steps generated pipelines call besides <see cref="TargetSteps"/> and <see cref="LossSteps"/>.</summary>
public static class PipelineSupport
{
    /// <summary>Moves every tensor of a sample out of the current dispose scope, to the caller's.</summary>
    public static TwoStageSample MoveToOuterDisposeScope(this TwoStageSample s) => new(
        s.Rois.MoveToOuterDisposeScope(), s.Valid.MoveToOuterDisposeScope(), s.Labels.MoveToOuterDisposeScope(), s.LabelWeights.MoveToOuterDisposeScope(),
        s.BboxTargets.MoveToOuterDisposeScope(), s.BboxWeights.MoveToOuterDisposeScope(), s.PosGtIds.MoveToOuterDisposeScope(),
        s.CandidateIndex.MoveToOuterDisposeScope(), s.NumClasses);

    /// <summary>Scales a named loss by the recipe's loss weight (1 leaves it as is).</summary>
    public static void Scale(IDictionary<string, Tensor> losses, string name, double weight)
    {
        if (weight != 1.0 && losses.TryGetValue(name, out var loss)) losses[name] = loss * weight;
    }

    /// <summary>OHEM's ranking loss: every candidate's cross entropy, positives with their labels, the rest as background.</summary>
    /// <param name="clsScore">[B, M, C+1] the box head's scores of every candidate (no gradient).</param>
    /// <returns>[B, M].</returns>
    public static Tensor CandidateClassificationLoss(Candidates candidates, Tensor clsScore)
    {
        using var scope = NewDisposeScope();
        long b = clsScore.shape[0], m = clsScore.shape[1], background = clsScore.shape[2] - 1;
        var labels = where(candidates.Assigned.GtInds > 0, candidates.Assigned.Labels, full_like(candidates.Assigned.Labels, background));
        return Loss.CrossEntropy(clsScore.reshape(b * m, -1), labels.reshape(b * m)).view(b, m).MoveToOuterDisposeScope();
    }
}
