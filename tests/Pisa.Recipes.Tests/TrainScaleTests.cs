using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>train.scale, train.multiscale and train.pad_divisor: read into <see cref="TrainSettings"/>, bad values located.</summary>
public sealed class TrainScaleTests
{
    [Fact]
    public void Without_scale_the_square_resize_stays_and_the_lists_are_off()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn"));
        Assert.Equal((128, (ImmutableEquatableArray<int>?)null, (ImmutableEquatableArray<int>?)null, 32),
            (r.Train.ImageSize, r.Train.Scale, r.Train.MultiScale, r.Train.PadDivisor));
    }

    [Fact]
    public void Scale_multiscale_and_pad_divisor_are_read()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadText(
            "recipe: keep-ratio\nbase: faster-rcnn\ntrain:\n  scale: [1333, 800]\n  multiscale: [640, 800]\n  pad_divisor: 64\n"));
        Assert.Equal([1333, 800], r.Train.Scale!.ToArray());
        Assert.Equal([640, 800], r.Train.MultiScale!.ToArray());
        Assert.Equal(64, r.Train.PadDivisor);
    }

    [Theory]
    [InlineData("  scale: [800, 1333]\n", 4, "'train.scale' is [800, 1333]: it must be [long, short] with long >= short")]
    [InlineData("  scale: [1333]\n", 4, "'train.scale' is [1333]: it must be [long, short]")]
    [InlineData("  scale: [1333, 800, 600]\n", 4, "'train.scale' is [1333, 800, 600]")]
    [InlineData("  scale: [1333, 8]\n", 4, "'train.scale' is 8: it must be >= 16")]
    [InlineData("  scale: 800\n", 4, "'train.scale' must be a list of whole numbers")]
    [InlineData("  multiscale: [640, 800]\n", 4, "'train.multiscale' is [640, 800]: it must be [] without train.scale")]
    [InlineData("  scale: [1333, 800]\n  pad_divisor: 0\n", 5, "'train.pad_divisor' is 0: it must be >= 1")]
    public void A_bad_value_is_a_located_error_naming_the_key(string train, int line, string message)
    {
        string yaml = "recipe: bad-scale\nbase: faster-rcnn\ntrain:\n" + train;
        DiagnosticInfo error = Assert.Single(TestRecipes.Errors(TestRecipes.LoadText(yaml)));
        Assert.EndsWith("bad-scale.yaml", error.Span.Path);
        Assert.Equal(line, error.Span.Line);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void An_override_sets_the_scale()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn", "train.scale=[320, 224]"));
        Assert.Equal([320, 224], r.Train.Scale!.ToArray());
    }
}
