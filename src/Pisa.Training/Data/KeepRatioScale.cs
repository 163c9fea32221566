namespace Pisa.Training.Data;

/// <summary>
/// mmdetection's keep-ratio resize limits: an image is scaled by the largest factor that keeps its long side at most
/// <see cref="LongSide"/> and its short side at most <see cref="ShortSide"/> (up or down), both sides rounded to whole pixels.
/// </summary>
public readonly record struct KeepRatioScale(int LongSide, int ShortSide)
{
    /// <summary>The factor for a <paramref name="width"/> × <paramref name="height"/> image.</summary>
    public double FactorFor(int width, int height) =>
        Math.Min((double)LongSide / Math.Max(width, height), (double)ShortSide / Math.Min(width, height));

    /// <summary>The resized size: each side times <see cref="FactorFor"/>, rounded half up (at least 1 px).</summary>
    public (int Width, int Height) SizeOf(int width, int height)
    {
        double factor = FactorFor(width, height);
        return (Math.Max(1, (int)(width * factor + 0.5)), Math.Max(1, (int)(height * factor + 0.5)));
    }
}
