using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;
using Pisa.Training.Inference;
using SkiaSharp;

namespace Pisa.Training.Tests;

public class DetectionDrawingTests
{
    private static readonly CategoryMap Shapes = new(ShapesDataset.Categories);

    /// <summary>A 128 × 128 image of one grey.</summary>
    private static RgbImage Grey() => new(128, 128, Enumerable.Repeat((byte)100, 128 * 128 * 3).ToArray());

    private static readonly SKColor GreyPixel = new(100, 100, 100);

    [Fact]
    public void A_128_px_image_is_enlarged_four_times_and_its_box_edges_carry_the_class_colour()
    {
        // Category 2 (square, label 1), box x 20-60, y 30-80 in original pixels: 80-240 × 120-320 at four times the size.
        using var drawn = DetectionDrawing.Draw(Grey(), [new CocoDetection(1, 2, [20, 30, 40, 50], 0.9)], Shapes);
        var colour = DetectionDrawing.ColourOf(1);

        Assert.Equal((512, 512), (drawn.Width, drawn.Height));
        Assert.Equal(colour, drawn.GetPixel(80, 220));   // left edge
        Assert.Equal(colour, drawn.GetPixel(239, 220));  // right edge (last pixel inside the box)
        Assert.Equal(colour, drawn.GetPixel(160, 319));  // bottom edge
        Assert.Equal(colour, drawn.GetPixel(160, 120));  // top edge
        Assert.Equal(GreyPixel, drawn.GetPixel(160, 220)); // inside
        Assert.Equal(GreyPixel, drawn.GetPixel(78, 220));  // just outside the left edge
        Assert.Equal(GreyPixel, drawn.GetPixel(241, 220)); // just outside the right edge
    }

    [Fact]
    public void The_label_sits_on_a_box_of_the_class_colour_above_the_box_with_its_text_in_contrasting_ink()
    {
        using var drawn = DetectionDrawing.Draw(Grey(), [new CocoDetection(1, 1, [20, 30, 40, 50], 0.87)], Shapes);
        var colour = DetectionDrawing.ColourOf(0);
        var ink = DetectionDrawing.TextColourOn(colour);
        // The label box spans TextSize + 4 px above the top edge (y 120), from the box's left edge (x 80).
        Assert.Equal(colour, drawn.GetPixel(81, 119 - (int)DetectionDrawing.TextSize - 2));
        var labelPixels = Enumerable.Range(80, 60).SelectMany(x => Enumerable.Range(102, 18).Select(y => drawn.GetPixel(x, y))).ToList();
        int inked = labelPixels.Count(p => p == ink);
        Assert.True(inked > 20, $"the label's text left {inked} pixels of ink: no glyphs drawn (no usable font?)");
        Assert.NotEqual(ink, colour);
    }

    [Fact]
    public void A_box_at_the_top_of_the_image_keeps_its_label_inside_the_image()
    {
        using var drawn = DetectionDrawing.Draw(Grey(), [new CocoDetection(1, 1, [10, 0, 50, 50], 0.5)], Shapes);
        Assert.Equal(DetectionDrawing.ColourOf(0), drawn.GetPixel(42, 10)); // under the top edge, left of the text
    }

    [Fact]
    public void Classes_get_distinct_colours()
    {
        var colours = Enumerable.Range(0, 30).Select(DetectionDrawing.ColourOf).ToList();
        Assert.Equal(colours.Count, colours.Distinct().Count());
    }

    [Fact]
    public void An_image_without_detections_is_only_enlarged()
    {
        var pixels = new byte[128 * 128 * 3];
        pixels[3 * (5 * 128 + 7)] = 255; // one red pixel at (7, 5)
        using var drawn = DetectionDrawing.Draw(new RgbImage(128, 128, pixels), [], Shapes);
        Assert.Equal(new SKColor(255, 0, 0), drawn.GetPixel(7 * 4 + 3, 5 * 4));
        Assert.Equal(new SKColor(0, 0, 0), drawn.GetPixel(7 * 4 + 4, 5 * 4));
    }

    [Fact]
    public void A_large_image_keeps_its_size()
    {
        Assert.Equal(1, DetectionDrawing.ScaleFor(800, 600));
        Assert.Equal(2, DetectionDrawing.ScaleFor(300, 900));
    }

    [Fact]
    public void Run_pictures_are_png_files_named_by_image_id_with_only_detections_above_the_threshold()
    {
        using var folder = new TempDirectory();
        var val = TrainingFixtures.Val;
        var first = val.Entries[0];
        CocoDetection[] detections = [new(first.ImageId, 1, [2, 2, 20, 20], 0.9), new(first.ImageId, 2, [30, 30, 20, 20], 0.1)];
        var files = Engine.DetectionExamples.Write(val, detections, folder.In("vis"), count: 2);

        Assert.Equal([folder.In("vis", $"{val.Entries[0].ImageId:D6}.png"), folder.In("vis", $"{val.Entries[1].ImageId:D6}.png")], files);
        using var picture = SKBitmap.Decode(files[0]);
        int scale = DetectionDrawing.ScaleFor(first.Width, first.Height);
        Assert.Equal(DetectionDrawing.ColourOf(0), picture.GetPixel(2 * scale, 12 * scale));          // the 0.9 box's left edge
        Assert.NotEqual(DetectionDrawing.ColourOf(1), picture.GetPixel(30 * scale, 40 * scale));     // the 0.1 box is left off
    }
}

public class DetectionImagesTests
{
    private static readonly CategoryMap Shapes = new(ShapesDataset.Categories);

    [Fact]
    public void A_missing_path_is_an_error_naming_it()
    {
        using var folder = new TempDirectory();
        var error = Assert.Throws<InvalidDataException>(() => DetectionImages.Expand([folder.In("nothing.png")]));
        Assert.Contains(folder.In("nothing.png"), error.Message);
    }

    [Fact]
    public void A_folder_without_images_is_an_error_naming_it()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.In("notes.txt"), "x");
        var error = Assert.Throws<InvalidDataException>(() => DetectionImages.Expand([folder.Path]));
        Assert.Contains(folder.Path, error.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_image_is_an_error_naming_it()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.In("fake.png"), "not a png");
        var error = Assert.Throws<InvalidDataException>(() => DetectionImages.Load([folder.In("fake.png")], Shapes));
        Assert.Contains(folder.In("fake.png"), error.Message);
    }

    [Fact]
    public void A_folder_stands_for_its_images_in_name_order_and_numeric_names_are_image_ids()
    {
        using var folder = new TempDirectory();
        var image = new RgbImage(4, 4, new byte[48]);
        foreach (string name in new[] { "000012.png", "000003.png" }) ImageCodec.WritePng(folder.In(name), image);
        File.WriteAllText(folder.In("readme.txt"), "x");

        var files = DetectionImages.Expand([folder.Path]);
        Assert.Equal([folder.In("000003.png"), folder.In("000012.png")], files);
        Assert.Equal([3L, 12L], DetectionImages.Load(files, Shapes).Entries.Select(e => e.ImageId));
        Assert.Equal([1L, 2L], DetectionImages.IdsOf(["b/cat.png", "a/7.png"]));
        Assert.Equal([1L, 2L], DetectionImages.IdsOf(["a/7.png", "b/7.png"]));
    }
}
