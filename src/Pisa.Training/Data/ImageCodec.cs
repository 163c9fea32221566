using SkiaSharp;

namespace Pisa.Training.Data;

/// <summary>PNG / JPEG (and whatever else Skia decodes) ↔ <see cref="RgbImage"/>.</summary>
public static class ImageCodec
{
    /// <summary>Decodes a whole image file; returns null and a reason when the file is missing, unreadable or corrupt.</summary>
    public static RgbImage? TryDecode(string path, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            problem = "image file not found";
            return null;
        }
        using var codec = SKCodec.Create(path, out var created);
        if (codec is null)
        {
            problem = $"not a decodable image ({Describe(created)})";
            return null;
        }
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        var result = codec.GetPixels(info, rgba);
        // A truncated file decodes "successfully" into a partly blank image; we refuse to train on that.
        if (result != SKCodecResult.Success)
        {
            problem = $"corrupt image data ({Describe(result)})";
            return null;
        }
        return new RgbImage(info.Width, info.Height, DropAlpha(rgba));
    }

    public static void WritePng(string path, RgbImage image)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var pixels = bitmap.GetPixelSpan();
        for (int p = 0, n = image.Width * image.Height; p < n; p++)
        {
            pixels[4 * p] = image.Pixels[3 * p];
            pixels[4 * p + 1] = image.Pixels[3 * p + 1];
            pixels[4 * p + 2] = image.Pixels[3 * p + 2];
            pixels[4 * p + 3] = 255;
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        string temp = path + ".tmp";
        using (var stream = File.Create(temp)) data.SaveTo(stream);
        File.Move(temp, path, overwrite: true);
    }

    private static byte[] DropAlpha(byte[] rgba)
    {
        var rgb = new byte[rgba.Length / 4 * 3];
        for (int p = 0, n = rgba.Length / 4; p < n; p++)
        {
            rgb[3 * p] = rgba[4 * p];
            rgb[3 * p + 1] = rgba[4 * p + 1];
            rgb[3 * p + 2] = rgba[4 * p + 2];
        }
        return rgb;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the file ends early",
        SKCodecResult.ErrorInInput => "the data is damaged",
        SKCodecResult.InvalidInput or SKCodecResult.Unimplemented => "unknown or unsupported format",
        _ => result.ToString(),
    };
}
