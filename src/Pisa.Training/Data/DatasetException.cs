namespace Pisa.Training.Data;

/// <summary>A data set that cannot be trained on; <see cref="Problems"/> lists every problem found, each naming its file and entry.</summary>
public sealed class DatasetException(string source, IReadOnlyList<string> problems)
    : Exception(Describe(source, problems))
{
    /// <summary>How many problems the message lists before it says "and N more".</summary>
    public const int ListedInMessage = 20;

    public string DataSource { get; } = source;
    public IReadOnlyList<string> Problems { get; } = problems;

    private static string Describe(string source, IReadOnlyList<string> problems)
    {
        var lines = problems.Take(ListedInMessage).Select(p => "  " + p);
        string more = problems.Count > ListedInMessage ? $"\n  … and {problems.Count - ListedInMessage} more" : "";
        string noun = problems.Count == 1 ? "problem" : "problems";
        return $"{source}: {problems.Count} {noun} in the data set (pass skipBad to skip the bad entries):\n{string.Join("\n", lines)}{more}";
    }
}
