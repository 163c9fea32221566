namespace Pisa.Training.Data;

/// <summary>An axis-aligned box in pixels, corners <c>[x1, y1, x2, y2]</c> (x2 and y2 exclusive, as COCO's x + w).</summary>
public readonly record struct BoxXyxy(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;

    /// <summary>From COCO's <c>[x, y, w, h]</c>.</summary>
    public static BoxXyxy FromXywh(double x, double y, double w, double h) => new((float)x, (float)y, (float)(x + w), (float)(y + h));

    /// <summary>To COCO's <c>[x, y, w, h]</c>.</summary>
    public double[] ToXywh() => [X1, Y1, X2 - X1, Y2 - Y1];

    public BoxXyxy Scale(float sx, float sy) => new(X1 * sx, Y1 * sy, X2 * sx, Y2 * sy);

    /// <summary>The box mirrored left-right in an image <paramref name="imageWidth"/> pixels wide.</summary>
    public BoxXyxy FlipHorizontally(float imageWidth) => new(imageWidth - X2, Y1, imageWidth - X1, Y2);

    public BoxXyxy ClipTo(float width, float height) =>
        new(Math.Clamp(X1, 0, width), Math.Clamp(Y1, 0, height), Math.Clamp(X2, 0, width), Math.Clamp(Y2, 0, height));
}
