namespace Pisa.Training.Data;

/// <summary>
/// One image with its annotations, in the image's original pixel coordinates.
/// <see cref="Boxes"/> and <see cref="Labels"/> are parallel (labels 0..C-1); crowd regions are kept apart because
/// training ignores them, as COCO does.
/// </summary>
/// <param name="ImageId">The COCO image id.</param>
/// <param name="FileName">The image's file name as the instances file gives it (or a builtin name).</param>
public sealed record DetectionEntry(
    long ImageId,
    string FileName,
    RgbImage Image,
    IReadOnlyList<BoxXyxy> Boxes,
    IReadOnlyList<int> Labels,
    IReadOnlyList<BoxXyxy> CrowdBoxes)
{
    public int Width => Image.Width;
    public int Height => Image.Height;
}
