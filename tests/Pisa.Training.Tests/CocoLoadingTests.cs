using Pisa.Evaluation.Coco;
using Pisa.Training.Data;
using Pisa.Training.Data.Shapes;

namespace Pisa.Training.Tests;

public class CocoLoadingTests
{
    private static readonly ShapesOptions Small = new() { TrainCount = 6, ValCount = 6 };

    [Fact]
    public void Exported_shapes_read_back_with_the_same_pixels_boxes_and_labels()
    {
        using var dir = new TempDirectory();
        string instances = ShapesDataset.Export(dir.Path, Small, ShapesSplit.Val);

        var fromDisk = DetectionDataset.Open(instances, ShapesSplit.Val);
        var inMemory = ShapesDataset.Load(Small, ShapesSplit.Val);

        Assert.Empty(fromDisk.Warnings);
        Assert.Equal(inMemory.Count, fromDisk.Count);
        for (int i = 0; i < inMemory.Count; i++)
        {
            Assert.Equal(inMemory.Entries[i].ImageId, fromDisk.Entries[i].ImageId);
            Assert.Equal(inMemory.Entries[i].Image.Pixels, fromDisk.Entries[i].Image.Pixels);
            Assert.Equal(inMemory.Entries[i].Boxes, fromDisk.Entries[i].Boxes);
            Assert.Equal(inMemory.Entries[i].Labels, fromDisk.Entries[i].Labels);
        }
        Assert.Equal(inMemory.GroundTruth.Annotations.Count, fromDisk.GroundTruth.Annotations.Count);
    }

    [Fact]
    public void Sparse_category_ids_map_to_contiguous_labels_and_back()
    {
        var map = new CategoryMap([new CocoCategory(7, "c", null), new CocoCategory(1, "a", null), new CocoCategory(3, "b", null)]);
        Assert.Equal(3, map.Count);
        Assert.Equal([0, 1, 2], new long[] { 1, 3, 7 }.Select(map.LabelOf));
        Assert.Equal([1L, 3L, 7L], Enumerable.Range(0, 3).Select(map.CategoryIdOf));
        Assert.Equal("c", map.NameOf(2));
        Assert.False(map.TryGetLabel(2, out _));
    }

    [Fact]
    public void Xywh_boxes_become_corners_and_crowd_regions_are_kept_apart()
    {
        using var dir = new TempDirectory();
        WriteImages(dir, 1, width: 64, height: 32);
        WriteInstances(dir, Images(1, 64, 32),
            new CocoAnnotation(10, 1, 3, [4, 5, 10, 20], 200, 0),
            new CocoAnnotation(11, 1, 7, [0, 0, 64, 32], 2048, 1));

        var entry = Assert.Single(DetectionDataset.FromCoco(dir.In("instances.json"), dir.In("images")).Entries);

        Assert.Equal([new BoxXyxy(4, 5, 14, 25)], entry.Boxes);
        Assert.Equal([0], entry.Labels); // category 3 is the first of {3, 7}
        Assert.Equal([new BoxXyxy(0, 0, 64, 32)], entry.CrowdBoxes);
    }

    [Fact]
    public void A_corrupt_and_a_missing_image_are_errors_naming_the_file_and_the_image_id()
    {
        using var dir = new TempDirectory();
        WriteImages(dir, 4, 32, 32);
        File.WriteAllBytes(dir.In("images", "2.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5]);
        byte[] good = File.ReadAllBytes(dir.In("images", "3.png"));
        File.WriteAllBytes(dir.In("images", "3.png"), good[..(good.Length / 2)]); // truncated mid-stream
        File.Delete(dir.In("images", "4.png"));
        WriteInstances(dir, Images(4, 32, 32));

        var error = Assert.Throws<DatasetException>(() => DetectionDataset.FromCoco(dir.In("instances.json"), dir.In("images")));

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.StartsWith(dir.In("images", "2.png") + ": image 2:") && p.Contains("not a decodable image"));
        Assert.Contains(error.Problems, p => p.StartsWith(dir.In("images", "3.png") + ": image 3:"));
        Assert.Contains(error.Problems, p => p.StartsWith(dir.In("images", "4.png") + ": image 4:") && p.Contains("not found"));
        Assert.StartsWith(dir.In("instances.json") + ": 3 problems", error.Message);
    }

    [Fact]
    public void Bad_boxes_and_unknown_categories_are_errors_naming_the_annotation_id()
    {
        using var dir = new TempDirectory();
        WriteImages(dir, 1, 32, 32);
        WriteInstances(dir, Images(1, 32, 32),
            new CocoAnnotation(21, 1, 3, [20, 20, 14, 5], 70, 0),    // x2 = 34 > 32 + 1 px tolerance
            new CocoAnnotation(22, 1, 3, [5, 5, 0, 5], 0, 0),        // zero width
            new CocoAnnotation(23, 1, 99, [5, 5, 5, 5], 25, 0),      // unknown category
            new CocoAnnotation(24, 1, 3, [-0.5, 0, 32.5, 32], 1024, 0)); // within tolerance: clipped, kept

        var error = Assert.Throws<DatasetException>(() => DetectionDataset.FromCoco(dir.In("instances.json"), dir.In("images")));

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains("annotation 21 (image 1, 1.png): bbox [20, 20, 14, 5] lies outside the 32x32 image", error.Problems[0]);
        Assert.Contains("annotation 22 (image 1, 1.png): bbox [5, 5, 0, 5] has a non-positive width or height", error.Problems[1]);
        Assert.Contains("annotation 23 (image 1, 1.png): unknown category_id 99", error.Problems[2]);
        Assert.All(error.Problems, p => Assert.StartsWith(dir.In("instances.json") + ": ", p));
    }

    [Fact]
    public void Skip_bad_drops_bad_images_and_annotations_with_one_warning_each()
    {
        using var dir = new TempDirectory();
        WriteImages(dir, 3, 32, 32);
        File.WriteAllText(dir.In("images", "2.png"), "not a png");
        WriteInstances(dir, Images(3, 32, 32),
            new CocoAnnotation(31, 1, 3, [1, 1, 8, 8], 64, 0),
            new CocoAnnotation(32, 2, 3, [1, 1, 8, 8], 64, 0),   // on the corrupt image: goes with it
            new CocoAnnotation(33, 3, 3, [1, 1, 80, 8], 640, 0), // outside: dropped alone
            new CocoAnnotation(34, 3, 7, [2, 2, 4, 4], 16, 0));

        var dataset = DetectionDataset.FromCoco(dir.In("instances.json"), dir.In("images"), skipBad: true);

        Assert.Equal([1L, 3L], dataset.Entries.Select(e => e.ImageId));
        Assert.Equal([new BoxXyxy(2, 2, 6, 6)], dataset.Entries[1].Boxes);
        Assert.Equal(2, dataset.Warnings.Count);
        Assert.Contains(dataset.Warnings, w => w.Contains("2.png: image 2"));
        Assert.Contains(dataset.Warnings, w => w.Contains("annotation 33"));
        Assert.Equal([31L, 34L], dataset.GroundTruth.Annotations.Select(a => a.Id));
    }

    [Fact]
    public void An_image_whose_file_size_disagrees_with_the_instances_file_is_an_error()
    {
        using var dir = new TempDirectory();
        WriteImages(dir, 1, 32, 16);
        WriteInstances(dir, Images(1, 32, 32));
        var error = Assert.Throws<DatasetException>(() => DetectionDataset.FromCoco(dir.In("instances.json"), dir.In("images")));
        Assert.Contains("the file is 32x16, the instances file says 32x32", Assert.Single(error.Problems));
    }

    [Fact]
    public void An_unknown_builtin_source_is_named()
    {
        var error = Assert.Throws<DatasetException>(() => DetectionDataset.Open("builtin:circles", ShapesSplit.Val));
        Assert.Contains("builtin:circles", error.Message);
    }

    private static CocoImage[] Images(int count, int width, int height) =>
        Enumerable.Range(1, count).Select(i => new CocoImage(i, $"{i}.png", width, height)).ToArray();

    /// <summary>Writes images 1..count as flat grey PNGs of the given size.</summary>
    private static void WriteImages(TempDirectory dir, int count, int width, int height)
    {
        Directory.CreateDirectory(dir.In("images"));
        for (int i = 1; i <= count; i++)
            ImageCodec.WritePng(dir.In("images", $"{i}.png"), new RgbImage(width, height, Enumerable.Repeat((byte)(40 * i), width * height * 3).ToArray()));
    }

    private static void WriteInstances(TempDirectory dir, CocoImage[] images, params CocoAnnotation[] annotations) =>
        CocoJson.WriteDataset(dir.In("instances.json"),
            new CocoDataset(images, [new CocoCategory(3, "three", null), new CocoCategory(7, "seven", null)], annotations));
}

public class ImageCodecTests
{
    [Fact]
    public void A_jpeg_decodes_to_rgb_close_to_what_was_encoded()
    {
        using var dir = new TempDirectory();
        // Left half pure red, right half pure blue; JPEG is lossy, so compare far from the edge with a tolerance.
        using (var bitmap = new SkiaSharp.SKBitmap(32, 16))
        {
            using (var canvas = new SkiaSharp.SKCanvas(bitmap))
            {
                canvas.Clear(SkiaSharp.SKColors.Blue);
                using var red = new SkiaSharp.SKPaint { Color = SkiaSharp.SKColors.Red };
                canvas.DrawRect(0, 0, 16, 16, red);
            }
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 95);
            File.WriteAllBytes(dir.In("a.jpg"), data.ToArray());
        }

        var image = ImageCodec.TryDecode(dir.In("a.jpg"), out string? problem);

        Assert.Null(problem);
        Assert.Equal((32, 16), (image!.Width, image.Height));
        int left = 3 * (8 * 32 + 4), right = 3 * (8 * 32 + 28);
        Assert.InRange(image.Pixels[left], 240, 255);
        Assert.InRange(image.Pixels[left + 2], 0, 15);
        Assert.InRange(image.Pixels[right], 0, 15);
        Assert.InRange(image.Pixels[right + 2], 240, 255);
    }
}
