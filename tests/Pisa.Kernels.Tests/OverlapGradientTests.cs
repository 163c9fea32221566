using static TorchSharp.torch;

namespace Pisa.Kernels.Tests;

/// <summary>The overlaps compute in place on their temporaries; gradients must still flow through them exactly.</summary>
public class OverlapGradientTests
{
    [Fact]
    public void Giou_loss_gradient_through_the_in_place_intersection_matches_the_hand_derivation()
    {
        // pred [x1, 0, x2, 2] at x1 = 0, x2 = 2; target [1, 0, 3, 2].
        // x2 (< 3): inter = 2(x2 - 1), union = 2 x2 + 4 - inter = 6, enclosing = 2 (3 - 0) = 6,
        //   GIoU = inter/union - (enclosing - union)/enclosing = (x2 - 1)/3, so d loss / d x2 = -1/3.
        // x1 (< 1): inter = 2, union = 2(2 - x1) + 4 - 2 = 6 - 2 x1, enclosing = 2(3 - x1),
        //   d GIoU / d x1 = inter * 2 / union^2 + (enclosing' union - union' enclosing)/enclosing^2 = 4/36 + (-12 + 12)/36 = 1/9,
        //   so d loss / d x1 = -1/9.
        var pred = tensor(new float[] { 0, 0, 2, 2 }).requires_grad_();
        var target = tensor(new float[] { 1, 0, 3, 2 });
        var loss = Loss.GIoU(pred, target);
        Assert.Equal(2.0 / 3.0, loss.item<float>(), 5);
        loss.backward();
        var grad = pred.grad!.data<float>().ToArray();
        Assert.Equal(-1.0 / 9.0, grad[0], 5);
        Assert.Equal(-1.0 / 3.0, grad[2], 5);
    }

    [Fact]
    public void Iof_divides_by_the_first_boxs_area_and_iou_by_the_union()
    {
        // a = [0, 0, 2, 2] (area 4), b = [1, 0, 3, 2] (area 4): intersection 2, union 6.
        var a = tensor(new float[] { 0, 0, 2, 2 }).view(1, 4);
        var b = tensor(new float[] { 1, 0, 3, 2 }).view(1, 4);
        Assert.Equal(2f / 6f, Boxes.Overlaps(a, b).item<float>(), 6);
        Assert.Equal(2f / 4f, Boxes.Overlaps(a, b, OverlapMode.IoF).item<float>(), 6);
    }
}
