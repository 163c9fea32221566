namespace Pisa.Training.Data.Shapes;

/// <summary>The two fixed splits of <c>builtin:shapes</c>; each has its own stream of seeds, so their images never coincide.</summary>
public enum ShapesSplit { Train, Val }

/// <summary>
/// Parameters of the built-in <c>builtin:shapes</c> data set. Image i of a split depends only on
/// (<see cref="Seed"/>, split, i), so changing a count never changes the other images.
/// </summary>
public sealed record ShapesOptions
{
    public const string SourceName = "builtin:shapes";

    public int Seed { get; init; } = 0;
    public int TrainCount { get; init; } = 2000;
    public int ValCount { get; init; } = 200;
    /// <summary>Images are square, this many pixels a side.</summary>
    public int ImageSize { get; init; } = 128;
    public int MinObjects { get; init; } = 1;
    public int MaxObjects { get; init; } = 12;
    /// <summary>Object extents are drawn from [MinObjectSize, MaxObjectSize] pixels with √extent uniform.</summary>
    public float MinObjectSize { get; init; } = 8;
    public float MaxObjectSize { get; init; } = 80;
    /// <summary>Lines, blobs and arcs that are not objects (hard negatives), 0 to this many per image.</summary>
    public int MaxDistractors { get; init; } = 3;
    /// <summary>Chance that the next objects come as a cluster of 2-4 overlapping objects of one class.</summary>
    public double ClusterProbability { get; init; } = 0.35;
    /// <summary>Objects occluded by more than this fraction are drawn but not annotated.</summary>
    public double MaxOccludedFraction { get; init; } = 0.7;

    public int CountOf(ShapesSplit split) => split == ShapesSplit.Train ? TrainCount : ValCount;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        Require(TrainCount >= 0 && ValCount >= 0, "image counts must not be negative");
        Require(ImageSize >= 32, $"ImageSize {ImageSize} must be at least 32");
        Require(MinObjects >= 0 && MaxObjects >= MinObjects, $"objects per image [{MinObjects}, {MaxObjects}] is not a range");
        Require(MaxObjects <= 64, $"MaxObjects {MaxObjects} must be at most 64");
        Require(MinObjectSize >= 4 && MaxObjectSize >= MinObjectSize, $"object size [{MinObjectSize}, {MaxObjectSize}] is not a range of at least 4 px");
        Require(MaxDistractors is >= 0 and <= 32, $"MaxDistractors {MaxDistractors} must be in [0, 32]");
        Require(ClusterProbability is >= 0 and <= 1, $"ClusterProbability {ClusterProbability} must be in [0, 1]");
        Require(MaxOccludedFraction is >= 0 and < 1, $"MaxOccludedFraction {MaxOccludedFraction} must be in [0, 1)");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException($"{SourceName}: {message}");
    }
}
