using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// The R-CNN box head: RoI features flattened through two shared fully connected layers (+ ReLU), then a classifier
/// over C + 1 classes (background last, as the spec's label C) and class-specific box deltas, 4 per foreground class.
/// Init as mmdetection: classifier N(0, 0.01), regressor N(0, 0.001), biases 0; shared layers Xavier.
/// </summary>
public sealed class TwoFcBoxHead : nn.Module<Tensor, (Tensor ClassLogits, Tensor Deltas)>
{
    private readonly Linear fc1, fc2, classifier, regressor;

    public TwoFcBoxHead(int inChannels, int roiSize, int numClasses, int hiddenDim = 256) : base(nameof(TwoFcBoxHead))
    {
        (InChannels, RoiSize, NumClasses) = (inChannels, roiSize, numClasses);
        fc1 = nn.Linear(inChannels * roiSize * roiSize, hiddenDim);
        fc2 = nn.Linear(hiddenDim, hiddenDim);
        classifier = nn.Linear(hiddenDim, numClasses + 1);
        regressor = nn.Linear(hiddenDim, numClasses * 4);
        nn.init.xavier_uniform_(fc1.weight);
        nn.init.xavier_uniform_(fc2.weight);
        nn.init.normal_(classifier.weight, 0, 0.01);
        nn.init.normal_(regressor.weight, 0, 0.001);
        foreach (var layer in new[] { fc1, fc2, classifier, regressor }) nn.init.zeros_(layer.bias!);
        RegisterComponents();
    }

    public int InChannels { get; }
    public int RoiSize { get; }
    public int NumClasses { get; }

    /// <summary>RoI features <c>[..., C, P, P]</c> → class logits <c>[..., C+1]</c> and deltas <c>[..., 4·C]</c> (any leading dims, e.g. [B, R]).</summary>
    public override (Tensor ClassLogits, Tensor Deltas) forward(Tensor roiFeatures)
    {
        using var scope = NewDisposeScope();
        long[] leading = roiFeatures.shape[..^3];
        var x = roiFeatures.reshape(-1, InChannels * RoiSize * RoiSize);
        x = nn.functional.relu(fc2.forward(nn.functional.relu(fc1.forward(x))));
        var logits = classifier.forward(x).reshape([.. leading, NumClasses + 1]);
        var deltas = regressor.forward(x).reshape([.. leading, NumClasses * 4]);
        return (logits.MoveToOuterDisposeScope(), deltas.MoveToOuterDisposeScope());
    }
}
