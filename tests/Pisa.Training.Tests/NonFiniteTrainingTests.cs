using Pisa.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

public class NonFiniteTrainingTests
{
    [Fact]
    public void Flags_mark_the_loss_and_each_parameter_whose_gradient_has_a_nan_or_an_infinity()
    {
        using var scope = NewDisposeScope();
        var a = new TorchSharp.Modules.Parameter(zeros(3));
        var b = new TorchSharp.Modules.Parameter(zeros(2, 2));
        var c = new TorchSharp.Modules.Parameter(zeros(1));
        var d = new TorchSharp.Modules.Parameter(zeros(1)); // no gradient at all: unused, not broken
        a.grad = tensor(new float[] { 1, 2, 3 });
        b.grad = tensor(new float[] { 0, float.NaN, 1, 2 }).reshape(2, 2);
        c.grad = tensor(new float[] { float.PositiveInfinity });
        var flags = NonFiniteTraining.Flags(tensor(0.5f), [a, b, c, d]).data<bool>().ToArray();
        Assert.Equal(new[] { true, true, false, false, true }, flags);

        var nanLoss = NonFiniteTraining.Flags(tensor(float.NaN), [a]).data<bool>().ToArray();
        Assert.Equal(new[] { false, true }, nanLoss);
    }

    [Fact]
    public void An_early_failure_names_step_and_first_parameter_and_points_to_doctor_not_the_learning_rate()
    {
        string message = NonFiniteTraining.Describe("faster-rcnn", 20, ["loss", "backbone.stem.0.weight", "rpn.conv.weight", "rpn.conv.bias"],
            [true, true, false, false], warmupIters: 500, anomalyModeOn: false);
        Assert.Equal("faster-rcnn: the gradient of rpn.conv.weight became non-finite at step 20 (2 of 3 parameters' gradients). "
            + "This early it is rarely the learning rate: run 'pisa doctor' to check this machine's numerics, "
            + "and train with --detect-anomaly to name the operation that produced it.", message);
    }

    [Fact]
    public void A_late_failure_suggests_the_learning_rate_first_and_a_loss_only_failure_says_so()
    {
        string message = NonFiniteTraining.Describe("retinanet", 4000, ["loss", "head.weight"], [false, true], warmupIters: 500, anomalyModeOn: true);
        Assert.Equal("retinanet: the loss became non-finite at step 4000. Lower train.lr or check the data; 'pisa doctor' checks this machine's numerics.", message);
    }

    [Fact]
    public void Rerunning_under_anomaly_mode_names_the_backward_operation_that_returned_nan()
    {
        string named = NonFiniteTraining.Rerun(() =>
        {
            using var scope = NewDisposeScope();
            var x = tensor(new[] { -1.0f, 4.0f }).requires_grad_(true);
            x.sqrt().sum().backward();
        });
        Assert.Contains("SqrtBackward0", named);
        Assert.Contains("nan", named);

        string clean = NonFiniteTraining.Rerun(() =>
        {
            using var scope = NewDisposeScope();
            var x = tensor(new[] { 1.0f, 4.0f }).requires_grad_(true);
            x.sqrt().sum().backward();
        });
        Assert.Contains("did not repeat", clean);
    }
}
