using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;
using SkiaSharp;

namespace Pisa.Training.Tests;

public class ShapesDatasetTests
{
    private static readonly ShapesOptions Small = new() { TrainCount = 24, ValCount = 8 };

    [Fact]
    public void The_same_seed_gives_identical_pixels_and_boxes()
    {
        var first = ShapesDataset.Generate(Small, ShapesSplit.Train);
        var second = ShapesDataset.Generate(Small, ShapesSplit.Train);
        for (int i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].Image.Pixels, second[i].Image.Pixels);
            Assert.Equal(first[i].Annotations, second[i].Annotations);
        }
    }

    [Fact]
    public void A_different_seed_or_split_gives_different_images()
    {
        var seed0 = ShapesDataset.GenerateImage(Small, ShapesSplit.Train, 0);
        var seed1 = ShapesDataset.GenerateImage(Small with { Seed = 1 }, ShapesSplit.Train, 0);
        var val0 = ShapesDataset.GenerateImage(Small, ShapesSplit.Val, 0);
        Assert.NotEqual(seed0.Image.Pixels, seed1.Image.Pixels);
        Assert.NotEqual(seed0.Image.Pixels, val0.Image.Pixels);
    }

    [Fact]
    public void An_image_does_not_depend_on_how_many_images_the_split_has()
    {
        var fromFew = ShapesDataset.Generate(Small with { TrainCount = 3 }, ShapesSplit.Train)[2];
        var fromMany = ShapesDataset.Generate(Small, ShapesSplit.Train)[2];
        Assert.Equal(fromFew.Image.Pixels, fromMany.Image.Pixels);
    }

    [Fact]
    public void Boxes_lie_inside_the_image_and_areas_fit_inside_their_boxes()
    {
        foreach (var image in ShapesDataset.Generate(Small, ShapesSplit.Train))
            foreach (var a in image.Annotations)
            {
                Assert.InRange(a.Box.X1, 0, 128 - ShapesDataset.MinVisibleSide);
                Assert.InRange(a.Box.Y1, 0, 128 - ShapesDataset.MinVisibleSide);
                Assert.InRange(a.Box.X2, a.Box.X1 + ShapesDataset.MinVisibleSide, 128);
                Assert.InRange(a.Box.Y2, a.Box.Y1 + ShapesDataset.MinVisibleSide, 128);
                Assert.InRange(a.VisiblePixels, 1, a.Box.Width * a.Box.Height);
            }
    }

    [Fact]
    public void The_val_split_covers_every_class_and_sizes_from_small_to_large()
    {
        var annotations = ShapesDataset.Generate(new ShapesOptions { ValCount = 200 }, ShapesSplit.Val).SelectMany(i => i.Annotations).ToList();
        Assert.Equal(6, annotations.Select(a => a.Kind).Distinct().Count());
        var sides = annotations.Select(a => Math.Max(a.Box.Width, a.Box.Height)).ToList();
        Assert.True(sides.Min() <= 10, $"smallest object {sides.Min()} px");
        Assert.True(sides.Max() >= 70, $"largest object {sides.Max()} px");
    }

    [Fact]
    public void A_lone_object_changes_exactly_the_pixels_inside_its_box()
    {
        var options = Small with { MinObjects = 1, MaxObjects = 1, MaxDistractors = 0 };
        for (int index = 0; index < 6; index++)
        {
            var image = ShapesDataset.GenerateImage(options, ShapesSplit.Train, index);
            var background = SceneRenderer.Render(image.Layout with { Items = [] });
            var box = Assert.Single(image.Annotations).Box;
            var changed = ChangedPixels(image.Image, background);
            Assert.NotEmpty(changed);
            // Anti-aliasing may tint the ring of pixels just outside the aliased (pixel-centre) box, nothing beyond.
            Assert.All(changed, p => Assert.True(
                p.X >= box.X1 - 1 && p.X < box.X2 + 1 && p.Y >= box.Y1 - 1 && p.Y < box.Y2 + 1, $"pixel {p} changed outside box {box}"));
            // And the box is tight: each of its edges touches a changed pixel.
            Assert.Contains(changed, p => Math.Abs(p.X - box.X1) <= 1);
            Assert.Contains(changed, p => Math.Abs(p.X + 1 - box.X2) <= 1);
            Assert.Contains(changed, p => Math.Abs(p.Y - box.Y1) <= 1);
            Assert.Contains(changed, p => Math.Abs(p.Y + 1 - box.Y2) <= 1);
        }
    }

    [Fact]
    public void A_half_covered_object_keeps_its_visible_box_and_a_fully_covered_one_is_dropped()
    {
        // A 40 px square centred at (64, 64) covers x, y in [44, 84]. Drawn over a circle of radius 10 centred at
        // (44, 64), it leaves the circle's left half: pixel centres (x + 0.5, y + 0.5) within 10 of (44, 64) and left
        // of 44, i.e. columns 34..43 (34.5 is 9.5 from 44) and rows 54..73 → box [34, 54, 44, 74], about half visible.
        // A second circle at (64, 64) lies wholly under the square and is not annotated.
        var visible = Item(ItemKind.Circle, 44, 64, 20);
        var hidden = Item(ItemKind.Circle, 64, 64, 20);
        var square = Item(ItemKind.Square, 64, 64, 40);
        var layout = new SceneLayout(128, new Background(BackgroundKind.Gradient, SKColors.Gray, SKColors.Gray, 0.1f, 0, 1),
            [visible, hidden, square], new PhotometricJitter(1, 0, 1, 1, 1, 0, 1));

        var annotations = ShapesDataset.Annotate(layout, maxOccludedFraction: 0.7);

        Assert.Equal([ItemKind.Circle, ItemKind.Square], annotations.Select(a => a.Kind));
        Assert.Equal(new BoxXyxy(34, 54, 44, 74), annotations[0].Box);
        Assert.Equal(new BoxXyxy(44, 44, 84, 84), annotations[1].Box);
        Assert.Equal(40 * 40, annotations[1].VisiblePixels);
    }

    [Fact]
    public void Objects_hidden_beyond_the_threshold_are_not_annotated()
    {
        // The same circle (radius 10 at x = 44) under a 40 px square centred at x = 58, which covers x >= 38: the circle
        // keeps the segment left of the chord 6 px from its centre, r² acos(6/10) - 6 √(10² - 6²) = 92.7 - 48 ≈ 45 of
        // its 314 px² (14 %): hidden by 86 %, beyond a 0.7 rule, within a 0.9 one.
        var circle = Item(ItemKind.Circle, 44, 64, 20);
        var square = Item(ItemKind.Square, 58, 64, 40);
        var layout = new SceneLayout(128, new Background(BackgroundKind.Gradient, SKColors.Gray, SKColors.Gray, 0.1f, 0, 1),
            [circle, square], new PhotometricJitter(1, 0, 1, 1, 1, 0, 1));

        Assert.Equal([ItemKind.Square], ShapesDataset.Annotate(layout, 0.7).Select(a => a.Kind));
        Assert.Equal([ItemKind.Circle, ItemKind.Square], ShapesDataset.Annotate(layout, 0.9).Select(a => a.Kind));
    }

    [Fact]
    public void The_in_memory_dataset_maps_shapes_to_labels_in_category_order()
    {
        var dataset = DetectionDataset.Open("builtin:shapes", ShapesSplit.Val, Small);
        Assert.Equal(8, dataset.Count);
        Assert.Equal("builtin:shapes/val", dataset.Name);
        Assert.Equal(["circle", "square", "triangle", "star", "ring", "cross"], dataset.Categories.Categories.Select(c => c.Name));
        var generated = ShapesDataset.Generate(Small, ShapesSplit.Val);
        for (int i = 0; i < dataset.Count; i++)
            Assert.Equal(generated[i].Annotations.Select(a => (int)a.Kind), dataset.Entries[i].Labels);
    }

    private static SceneItem Item(ItemKind kind, float cx, float cy, float size) =>
        new(kind, cx, cy, size, 0, SKColors.Red, SKColors.Red, 0);

    private static List<(int X, int Y)> ChangedPixels(RgbImage image, RgbImage background)
    {
        var changed = new List<(int, int)>();
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int p = 3 * (y * image.Width + x);
                int difference = Math.Abs(image.Pixels[p] - background.Pixels[p]) + Math.Abs(image.Pixels[p + 1] - background.Pixels[p + 1])
                    + Math.Abs(image.Pixels[p + 2] - background.Pixels[p + 2]);
                if (difference > 0) changed.Add((x, y));
            }
        return changed;
    }
}
