using Pisa.Evaluation.Coco;
using Pisa.Training.Data;

namespace Pisa.Training.Inference;

/// <summary>
/// Image files to run a detector on (<c>pisa detect</c>), as a data set without annotations. A folder stands for its
/// image files (<see cref="Extensions"/>, not recursive, in name order). Image ids are the files' names when every
/// name is a distinct whole number (as <c>pisa data export</c> writes them: <c>000012.png</c> is image 12), otherwise
/// their positions 1, 2, … in the order given.
/// </summary>
public static class DetectionImages
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>The image files that <paramref name="paths"/> (files or folders) name, in order, without repeats.</summary>
    /// <exception cref="InvalidDataException">A path that does not exist, or a folder with no image files (each named).</exception>
    public static IReadOnlyList<string> Expand(IEnumerable<string> paths)
    {
        var files = new List<string>();
        var problems = new List<string>();
        foreach (string path in paths)
        {
            if (File.Exists(path)) files.Add(path);
            else if (Directory.Exists(path))
            {
                var inFolder = Directory.EnumerateFiles(path).Where(IsImageFile).Order(StringComparer.Ordinal).ToList();
                if (inFolder.Count == 0) problems.Add($"{path}: no image files in the folder ({string.Join(", ", Extensions)})");
                files.AddRange(inFolder);
            }
            else problems.Add($"{path}: no such image file or folder");
        }
        if (problems.Count > 0) throw new InvalidDataException(string.Join("\n", problems));
        return files.DistinctBy(Path.GetFullPath).ToList();
    }

    /// <summary>The files decoded, as a data set of <paramref name="categories"/> with no annotations.</summary>
    /// <exception cref="InvalidDataException">Files that do not decode, each named with the reason.</exception>
    public static DetectionDataset Load(IReadOnlyList<string> files, CategoryMap categories)
    {
        var ids = IdsOf(files);
        var entries = new List<DetectionEntry>();
        var problems = new List<string>();
        for (int i = 0; i < files.Count; i++)
        {
            var image = ImageCodec.TryDecode(files[i], out string? problem);
            if (image is null) problems.Add($"{files[i]}: {problem}");
            else entries.Add(new DetectionEntry(ids[i], files[i], image, [], [], []));
        }
        if (problems.Count > 0) throw new InvalidDataException(string.Join("\n", problems));
        var images = entries.Select(e => new CocoImage(e.ImageId, e.FileName, e.Width, e.Height)).ToList();
        return new DetectionDataset("images", categories, entries, new CocoDataset(images, categories.Categories, []), []);
    }

    /// <summary>The files' numeric names when they are distinct whole numbers, else 1, 2, ….</summary>
    public static long[] IdsOf(IReadOnlyList<string> files)
    {
        var numbers = files.Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), out long n) && n >= 0 ? n : -1).ToArray();
        bool named = numbers.All(n => n >= 0) && numbers.Distinct().Count() == numbers.Length;
        return named ? numbers : Enumerable.Range(1, files.Count).Select(i => (long)i).ToArray();
    }

    private static bool IsImageFile(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());
}
