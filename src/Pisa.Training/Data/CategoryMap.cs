using Pisa.Evaluation.Coco;

namespace Pisa.Training.Data;

/// <summary>
/// COCO category ids (positive, possibly sparse: 1, 3, 7) ↔ contiguous training labels 0..C-1, in ascending id order.
/// Training uses labels; results written for COCO tools use ids.
/// </summary>
public sealed class CategoryMap
{
    private readonly CocoCategory[] byLabel;
    private readonly Dictionary<long, int> labelById;

    public CategoryMap(IEnumerable<CocoCategory> categories)
    {
        byLabel = categories.OrderBy(c => c.Id).ToArray();
        labelById = new Dictionary<long, int>(byLabel.Length);
        for (int label = 0; label < byLabel.Length; label++)
            if (!labelById.TryAdd(byLabel[label].Id, label))
                throw new ArgumentException($"category id {byLabel[label].Id} is listed twice", nameof(categories));
    }

    /// <summary>C, the number of foreground classes.</summary>
    public int Count => byLabel.Length;

    public IReadOnlyList<CocoCategory> Categories => byLabel;

    public bool TryGetLabel(long categoryId, out int label) => labelById.TryGetValue(categoryId, out label);

    public int LabelOf(long categoryId) =>
        labelById.TryGetValue(categoryId, out int label) ? label : throw new KeyNotFoundException($"unknown category id {categoryId}");

    public long CategoryIdOf(int label) => byLabel[label].Id;

    public string NameOf(int label) => byLabel[label].Name;
}
