using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pisa.Training.Models;

/// <summary>
/// RetinaNet-style single-stage head shared across levels: a classification tower and a box tower of
/// <c>stackedConvs</c> 3×3 conv + ReLU each, then sigmoid class logits (A·C) and box deltas (A·4) per location.
/// The class bias starts at <c>-ln((1 - π) / π)</c> with prior π = 0.01, so every anchor starts as 1 % foreground
/// and the background flood does not swamp the first focal-loss steps. Every conv starts from N(0, 0.01) as in
/// mmdetection, or, with <c>heTowers</c>, the tower convs from He's normal (fan-in, ReLU gain), which keeps the signal
/// and the gradient at scale through the towers: a backbone trained from scratch learns only through this head.
/// </summary>
public sealed class RetinaHead : nn.Module<Tensor[], (Tensor ClassLogits, Tensor Deltas)>
{
    private readonly ModuleList<Conv2d> classTower, boxTower;
    private readonly ModuleList<GroupNorm> classNorms, boxNorms;
    private readonly Conv2d classifier, regressor;
    private readonly int numClasses;

    /// <param name="towerGroups">GroupNorm groups after each tower conv (as FCOS and ATSS heads), or 0 for none (mmdetection's RetinaNet).</param>
    /// <param name="heTowers">Tower convs from He's normal instead of N(0, 0.01).</param>
    public RetinaHead(int inChannels, int numClasses, int anchorsPerLocation, int stackedConvs = 2, double priorProbability = 0.01, int towerGroups = 0,
        bool heTowers = false)
        : base(nameof(RetinaHead))
    {
        this.numClasses = numClasses;
        classTower = new ModuleList<Conv2d>(Enumerable.Range(0, stackedConvs).Select(_ => nn.Conv2d(inChannels, inChannels, 3, padding: 1)).ToArray());
        boxTower = new ModuleList<Conv2d>(Enumerable.Range(0, stackedConvs).Select(_ => nn.Conv2d(inChannels, inChannels, 3, padding: 1)).ToArray());
        int norms = towerGroups > 0 ? stackedConvs : 0;
        classNorms = new ModuleList<GroupNorm>(Enumerable.Range(0, norms).Select(_ => nn.GroupNorm(towerGroups, inChannels)).ToArray());
        boxNorms = new ModuleList<GroupNorm>(Enumerable.Range(0, norms).Select(_ => nn.GroupNorm(towerGroups, inChannels)).ToArray());
        classifier = nn.Conv2d(inChannels, anchorsPerLocation * numClasses, 3, padding: 1);
        regressor = nn.Conv2d(inChannels, anchorsPerLocation * 4, 3, padding: 1);
        var towers = classTower.Concat(boxTower).ToHashSet();
        foreach (var conv in classTower.Concat(boxTower).Append(classifier).Append(regressor))
        {
            if (heTowers && towers.Contains(conv)) nn.init.kaiming_normal_(conv.weight, nonlinearity: nn.init.NonlinearityType.ReLU);
            else nn.init.normal_(conv.weight, 0, 0.01);
            nn.init.zeros_(conv.bias!);
        }
        nn.init.constant_(classifier.bias!, PriorBias(priorProbability));
        RegisterComponents();
    }

    /// <summary>The logit whose sigmoid is <paramref name="prior"/>.</summary>
    public static double PriorBias(double prior) => -Math.Log((1 - prior) / prior);

    /// <summary>Levels <c>[B, C, H_l, W_l]</c> → class logits <c>[B, N, numClasses]</c> and deltas <c>[B, N, 4]</c>.</summary>
    public override (Tensor ClassLogits, Tensor Deltas) forward(Tensor[] levels)
    {
        using var scope = NewDisposeScope();
        var logits = HeadOutputs.Flatten(levels.Select(l => classifier.forward(Tower(classTower, classNorms, l))).ToList(), numClasses);
        var deltas = HeadOutputs.Flatten(levels.Select(l => regressor.forward(Tower(boxTower, boxNorms, l))).ToList(), 4);
        return (logits.MoveToOuterDisposeScope(), deltas.MoveToOuterDisposeScope());
    }

    private static Tensor Tower(ModuleList<Conv2d> tower, ModuleList<GroupNorm> norms, Tensor x)
    {
        for (int i = 0; i < tower.Count; i++)
        {
            x = tower[i].forward(x);
            if (norms.Count > 0) x = norms[i].forward(x);
            x = nn.functional.relu(x);
        }
        return x;
    }
}
