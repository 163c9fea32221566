using Pisa.Evaluation.Coco;

namespace Pisa.Training.Data;

/// <summary>
/// COCO category ids (positive, possibly sparse: 1, 3, 7) ↔ contiguous training labels 0..C-1, in ascending id order.
/// Training uses labels; results written for COCO tools use ids.
/// </summary>
public sealed class CategoryMap
{
    private readonly CocoCategory[] _byLabel;
    private readonly Dictionary<long, int> _labelById;

    public CategoryMap(IEnumerable<CocoCategory> categories)
    {
        _byLabel = categories.OrderBy(c => c.Id).ToArray();
        _labelById = new Dictionary<long, int>(_byLabel.Length);
        for (int label = 0; label < _byLabel.Length; label++)
            if (!_labelById.TryAdd(_byLabel[label].Id, label))
                throw new ArgumentException($"category id {_byLabel[label].Id} is listed twice", nameof(categories));
    }

    /// <summary>C, the number of foreground classes.</summary>
    public int Count => _byLabel.Length;

    public IReadOnlyList<CocoCategory> Categories => _byLabel;

    public bool TryGetLabel(long categoryId, out int label) => _labelById.TryGetValue(categoryId, out label);

    public int LabelOf(long categoryId) =>
        _labelById.TryGetValue(categoryId, out int label) ? label : throw new KeyNotFoundException($"unknown category id {categoryId}");

    public long CategoryIdOf(int label) => _byLabel[label].Id;

    public string NameOf(int label) => _byLabel[label].Name;
}
