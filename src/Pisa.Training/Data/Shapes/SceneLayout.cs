using SkiaSharp;

namespace Pisa.Training.Data.Shapes;

/// <summary>What an item of a scene is: one of the six object classes (in category order) or a distractor.</summary>
public enum ItemKind { Circle, Square, Triangle, Star, Ring, Cross, Line, Blob, Arc }

public enum BackgroundKind { Noise, Gradient, Stripes }

/// <summary>
/// One drawn item, as plain data: the renderer turns it into a path.
/// <see cref="Size"/> is the item's nominal extent in pixels (diameter, side, arm span or line length).
/// </summary>
/// <param name="Rotation">Degrees, clockwise.</param>
/// <param name="Fill2">Second colour of a gradient fill; equal to <see cref="Fill"/> for a solid fill.</param>
/// <param name="Param">Kind-specific: a line's thickness, an arc's sweep in degrees, a blob's shape seed.</param>
public sealed record SceneItem(ItemKind Kind, float Cx, float Cy, float Size, float Rotation, SKColor Fill, SKColor Fill2, float Param)
{
    public bool IsObject => Kind <= ItemKind.Cross;
}

public sealed record Background(BackgroundKind Kind, SKColor Base, SKColor Second, float Frequency, float Angle, int Seed);

/// <summary>A whole-image colour change after drawing: <c>v' = gain_c * (contrast * (v - 128) + 128) + brightness + noise</c>.</summary>
public sealed record PhotometricJitter(float Contrast, float Brightness, float GainR, float GainG, float GainB, float NoiseAmplitude, int NoiseSeed);

/// <summary>A scene: items in drawing order (later items cover earlier ones).</summary>
public sealed record SceneLayout(int Size, Background Background, IReadOnlyList<SceneItem> Items, PhotometricJitter Jitter);
