using Pisa.Training.Data;
using Pisa.Training.Engine;
using Pisa.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Tests;

[Collection(TrainingCollection.Name)]
public class TrainingStepTests
{
    [Theory]
    [InlineData("faster-rcnn", new[] { "loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox" })]
    [InlineData("libra-faster-rcnn", new[] { "loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox" })]
    [InlineData("ohem-faster-rcnn", new[] { "loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox" })]
    [InlineData("pisa-faster-rcnn", new[] { "loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox", "loss_carl" })]
    [InlineData("retinanet", new[] { "loss_cls", "loss_bbox" })]
    [InlineData("pisa-retinanet", new[] { "loss_cls", "loss_bbox", "loss_carl" })]
    public void A_few_steps_of_a_shipped_recipe_give_its_losses_finite_and_give_every_parameter_a_gradient(string name, string[] expectedLosses)
    {
        var (recipe, pipeline) = TrainingFixtures.Recipe(name);
        torch.manual_seed(0);
        using var runner = DetectorRunner.Create(recipe, pipeline, TrainingFixtures.TinyModel);
        using var generator = new Generator(0);
        var loader = new DetectionLoader(TrainingFixtures.Train, new LoaderOptions(2, 64, 64));
        foreach (var batch in loader.Epoch(0).Take(3))
        {
            using var scope = NewDisposeScope();
            using var owned = batch;
            var losses = runner.Losses(batch, generator);
            Assert.Equal(expectedLosses.Order(), losses.Keys.Order());
            foreach (var (lossName, loss) in losses)
                Assert.True(double.IsFinite(loss.item<float>()), $"{name}: {lossName} = {loss.item<float>()}");
            runner.Model.zero_grad();
            losses.Values.Aggregate((a, b) => a + b).backward();
            // Every trainable parameter takes part in the loss (a head left out of the graph would have no gradient).
            Assert.All(runner.Model.parameters(), p => Assert.NotNull(p.grad));
        }
    }

    [Theory]
    [InlineData("faster-rcnn")]
    [InlineData("retinanet")]
    public void A_resnet18_detector_trains_with_finite_losses_and_no_gradient_in_its_frozen_stages(string name)
    {
        var (recipe, pipeline) = TrainingFixtures.Recipe(name, "model.backbone=resnet18");
        torch.manual_seed(0);
        using var runner = DetectorRunner.Create(recipe, pipeline, Trainer.ModelFor(recipe, TrainingFixtures.Train.Categories.Count));
        runner.Model.train();
        using var optimizer = torch.optim.SGD(runner.Model.parameters(), 0.001, 0.9);
        using var generator = new Generator(0);
        var loader = new DetectionLoader(TrainingFixtures.Train, new LoaderOptions(2, 64, 64));
        foreach (var batch in loader.Epoch(0).Take(2))
        {
            using var scope = NewDisposeScope();
            using var owned = batch;
            var losses = runner.Losses(batch, generator);
            foreach (var (lossName, loss) in losses)
                Assert.True(double.IsFinite(loss.item<float>()), $"{name}: {lossName} = {loss.item<float>()}");
            optimizer.zero_grad();
            losses.Values.Aggregate((a, b) => a + b).backward();
            optimizer.step();
        }
        var parameters = runner.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Null(parameters["features.backbone.conv1.weight"].grad);
        Assert.Null(parameters["features.backbone.layer1.0.conv1.weight"].grad);
        Assert.NotNull(parameters["features.backbone.layer2.0.conv1.weight"].grad);
    }

    [Fact]
    public void Rpn_loss_of_an_anchor_exactly_on_a_gt_is_its_objectness_cross_entropy_only()
    {
        // One anchor equal to the gt (IoU 1: positive, zero box target) and one far away (IoU 0: negative).
        // Logits 0 for both: BCE = ln 2 each; sampled count 2 → loss_rpn_cls = (ln 2 + ln 2) / 2 = ln 2.
        // Deltas 0.5 everywhere: only the positive counts, |0.5 - 0| · 4 coordinates / 2 sampled = 1.
        using var scope = NewDisposeScope();
        var anchors = tensor(new float[] { 10, 10, 30, 30, 100, 100, 120, 120 }).reshape(2, 4);
        var objectness = zeros(1, 2);
        var deltas = full(1, 2, 4, 0.5f);
        var gt = tensor(new float[] { 10, 10, 30, 30 }).reshape(1, 1, 4);
        var losses = RpnLoss.Compute(anchors, objectness, deltas, gt, zeros(1, 1, ScalarType.Int64), ones(1, 1, ScalarType.Bool), new Generator(0));
        Assert.Equal(Math.Log(2), losses["loss_rpn_cls"].item<float>(), 5);
        Assert.Equal(1.0, losses["loss_rpn_bbox"].item<float>(), 5);
    }

    [Fact]
    public void Warm_up_rises_linearly_from_the_ratio_then_steps_divide_by_ten_after_each_listed_epoch()
    {
        var (recipe, _) = TrainingFixtures.Recipe("faster-rcnn", "train.lr=0.02", "train.warmup_iters=10", "train.warmup_ratio=0.1", "train.lr_steps=[1]");
        var schedule = new LearningRateSchedule(recipe.Train, iterationsPerEpoch: 20);
        Assert.Equal(0.002, schedule.At(0), 12);                        // 0.02 · (1 - 0.9 · 1)
        Assert.Equal(0.02 * (1 - 0.9 * 0.5), schedule.At(5), 12);      // half-way through warm-up: 0.011
        Assert.Equal(0.02, schedule.At(19), 12);                        // warmed up, still epoch 0
        Assert.Equal(0.002, schedule.At(20), 12);                       // epoch 1: after lr_steps' epoch 1
    }
}
