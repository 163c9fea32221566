using System.Text.Json.Serialization;

namespace Pisa.Evaluation.Coco;

// The COCO object-detection format (instances JSON and results JSON), as plain records.
// Fields marked JsonRequired are the ones evaluation cannot guess: reading a file without them is an error naming the field.
// Boxes are [x, y, w, h] in pixels, as COCO stores them. One definition, used by the evaluator,
// the data loader of the runner and `pisa data export`.

/// <summary>A COCO instances file: images, categories and annotations.</summary>
public sealed record CocoDataset(
    [property: JsonPropertyName("images")] IReadOnlyList<CocoImage> Images,
    [property: JsonPropertyName("categories")] IReadOnlyList<CocoCategory> Categories,
    [property: JsonPropertyName("annotations")] IReadOnlyList<CocoAnnotation> Annotations)
{
    [JsonPropertyName("info")] public CocoInfo? Info { get; init; }
}

/// <summary>Free-form information about a data set.</summary>
public sealed record CocoInfo(
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("version")] string? Version);

/// <summary>One image entry.</summary>
public sealed record CocoImage(
    [property: JsonPropertyName("id"), JsonRequired] long Id,
    [property: JsonPropertyName("file_name")] string FileName,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height);

/// <summary>One category entry; ids are positive and need not be contiguous.</summary>
public sealed record CocoCategory(
    [property: JsonPropertyName("id"), JsonRequired] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("supercategory")] string? Supercategory);

/// <summary>
/// One object annotation. <see cref="Area"/> is the object's (mask) area, not always w*h; it alone decides the
/// evaluation's area range. Ids are unique; unlike the reference evaluator, ours also matches an annotation whose id is 0.
/// A missing <c>iscrowd</c> reads as 0; <c>segmentation</c> (polygons or RLE) is not read.
/// </summary>
public sealed record CocoAnnotation(
    [property: JsonPropertyName("id"), JsonRequired] long Id,
    [property: JsonPropertyName("image_id"), JsonRequired] long ImageId,
    [property: JsonPropertyName("category_id"), JsonRequired] long CategoryId,
    [property: JsonPropertyName("bbox"), JsonRequired] double[] Bbox,
    [property: JsonPropertyName("area"), JsonRequired] double Area,
    [property: JsonPropertyName("iscrowd")] int IsCrowd);

/// <summary>One detection of a COCO results file.</summary>
public sealed record CocoDetection(
    [property: JsonPropertyName("image_id"), JsonRequired] long ImageId,
    [property: JsonPropertyName("category_id"), JsonRequired] long CategoryId,
    [property: JsonPropertyName("bbox"), JsonRequired] double[] Bbox,
    [property: JsonPropertyName("score"), JsonRequired] double Score);
