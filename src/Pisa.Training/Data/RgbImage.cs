using TorchSharp;
using static TorchSharp.torch;

namespace Pisa.Training.Data;

/// <summary>A decoded 8-bit RGB image, rows top to bottom, pixels interleaved <c>R, G, B</c>.</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} must be positive");
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"{width}x{height} RGB needs {width * height * 3} bytes, got {pixels.Length}", nameof(pixels));
        (Width, Height, Pixels) = (width, height, pixels);
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Interleaved RGB bytes, <c>Width * Height * 3</c> of them.</summary>
    public byte[] Pixels { get; }

    /// <summary>The image as float32 <c>[3, H, W]</c> in [0, 1] on the CPU.</summary>
    public Tensor ToTensor()
    {
        using var scope = NewDisposeScope();
        var hwc = tensor(Pixels, ScalarType.Byte).reshape(Height, Width, 3);
        return hwc.permute(2, 0, 1).to(ScalarType.Float32).div_(255f).contiguous().MoveToOuterDisposeScope();
    }
}
