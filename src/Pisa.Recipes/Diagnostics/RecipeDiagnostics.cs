using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

public enum DiagnosticSeverity { Error, Warning }

/// <summary>One rule's stable identity: id, short title, message format (string.Format placeholders) and severity.</summary>
public sealed record DiagnosticDescriptorInfo(string Id, string Title, string MessageFormat, DiagnosticSeverity Severity);

/// <summary>A located diagnostic as plain data; the generator turns it into a Roslyn Diagnostic only when reporting.</summary>
/// <param name="Arguments">The message arguments, kept so the generator can pass them to its DiagnosticDescriptor.</param>
public sealed record DiagnosticInfo(DiagnosticDescriptorInfo Descriptor, SourceSpan Span, ImmutableEquatableArray<string> Arguments)
{
    public string Id => Descriptor.Id;

    public DiagnosticSeverity Severity => Descriptor.Severity;

    public string Message => string.Format(System.Globalization.CultureInfo.InvariantCulture, Descriptor.MessageFormat, Arguments.ToArray<object>());

    /// <summary>MSBuild's form: <c>recipes/x.yaml(12,5): error PISA0006: message</c>.</summary>
    public override string ToString() =>
        $"{Span}: {(Severity == DiagnosticSeverity.Error ? "error" : "warning")} {Id}: {Message}";
}

/// <summary>Every recipe rule, in one table. Ids are stable: never renumber, only append.</summary>
public static class RecipeDiagnostics
{
    private static DiagnosticDescriptorInfo Error(string id, string title, string format) => new(id, title, format, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptorInfo YamlSyntax = Error("PISA0001", "YAML syntax error", "YAML syntax error: {0}");
    public static readonly DiagnosticDescriptorInfo DuplicateKey = Error("PISA0002", "Duplicate key", "duplicate key '{0}' (first written at line {1})");
    public static readonly DiagnosticDescriptorInfo UnsupportedYaml = Error("PISA0003", "Unsupported YAML feature", "{0}");
    public static readonly DiagnosticDescriptorInfo UnknownKey = Error("PISA0004", "Unknown key", "unknown key '{0}' in {1}{2}");
    public static readonly DiagnosticDescriptorInfo WrongType = Error("PISA0005", "Wrong type", "'{0}' must be {1}, not {2}");
    public static readonly DiagnosticDescriptorInfo OutOfRange = Error("PISA0006", "Value out of range", "'{0}' is {1}: it must be {2}");
    public static readonly DiagnosticDescriptorInfo UnknownName = Error("PISA0007", "Unknown name", "'{0}' is not a {1}; expected one of {2}{3}");
    public static readonly DiagnosticDescriptorInfo MissingRequired = Error("PISA0008", "Missing required key", "a recipe needs '{0}' ({1})");
    public static readonly DiagnosticDescriptorInfo InvalidRecipeName = Error("PISA0009", "Invalid recipe name", "recipe name '{0}' must be kebab-case: lower-case letters and digits in words joined by '-', starting with a letter (e.g. pisa-faster-rcnn)");
    public static readonly DiagnosticDescriptorInfo BaseNotFound = Error("PISA0010", "Base recipe not found", "base '{0}' not found (looked for {1}; chain: {2}){3}");
    public static readonly DiagnosticDescriptorInfo BaseCycle = Error("PISA0011", "Base cycle", "base chain loops: {0}");
    public static readonly DiagnosticDescriptorInfo NeedsTwoStage = Error("PISA0012", "Stage needs a two-stage detector", "{0} needs a two-stage detector, but this recipe's detector is single-stage ({1})");
    // PISA0013 (OHEM with a focal loss) and PISA0028 (Score-HLR with a sigmoid classifier) are retired: a two-stage
    // focal loss is refused by PISA0029, the only place the decision is made.
    public static readonly DiagnosticDescriptorInfo CarlWithoutBoxLoss = Error("PISA0014", "CARL without a box loss", "CARL reweights each positive's box loss, but loss.box.type is none");
    // PISA0015, PISA0016 and PISA0024 kept rank: in agreement with the stages it serves; rank is implied by them now (PISA0030).
    public static readonly DiagnosticDescriptorInfo OhemOneSided = Error("PISA0017", "OHEM on one side only", "ohem samples positives and negatives together from one loss ranking: set both sample.positives.type and sample.negatives.type to ohem");
    public static readonly DiagnosticDescriptorInfo AssignThresholds = Error("PISA0018", "Inconsistent assignment thresholds", "assign.neg_iou ({0}) must not exceed assign.pos_iou ({1}): a candidate would be both negative and positive");
    public static readonly DiagnosticDescriptorInfo BadOverride = Error("PISA0019", "Bad override", "an override is written key.path=value, e.g. --set loss.carl.k=2; got '{0}'");
    public static readonly DiagnosticDescriptorInfo BadVariants = Error("PISA0020", "Bad variants", "{0}");
    public static readonly DiagnosticDescriptorInfo UnknownVariant = Error("PISA0021", "Unknown variant", "recipe '{0}' has no variant '{1}'{2}");
    public static readonly DiagnosticDescriptorInfo BadLrSteps = Error("PISA0022", "Bad learning-rate steps", "{0}");
    public static readonly DiagnosticDescriptorInfo NameDiffersFromFile = new("PISA0023", "Recipe name differs from file name", "recipe '{0}' is in file '{1}': base: finds recipes by file name, so name the file {0}.yaml", DiagnosticSeverity.Warning);
    public static readonly DiagnosticDescriptorInfo UnreadableFile = Error("PISA0025", "Unreadable recipe", "{0}");
    public static readonly DiagnosticDescriptorInfo KeyNotForType = Error("PISA0026", "Option does not apply", "'{0}' applies to {1} of type {2}, not {3}");
    public static readonly DiagnosticDescriptorInfo NotOptional = Error("PISA0027", "Stage cannot be turned off", "'{0}' cannot be null: {1}");
    public static readonly DiagnosticDescriptorInfo ClassifierForDetector = Error("PISA0029", "Classification loss not supported by this detector", "{0}");
    public static readonly DiagnosticDescriptorInfo DeprecatedKey = new("PISA0030", "Deprecated key", "'{0}' is deprecated: {1}", DiagnosticSeverity.Warning);

    /// <summary>Ids of rules that were merged into others; never reused.</summary>
    public static IReadOnlyList<string> Retired { get; } = new[] { "PISA0013", "PISA0015", "PISA0016", "PISA0024", "PISA0028" };

    /// <summary>The whole table, in id order (documentation, release tracking, the generator's descriptor map).</summary>
    public static IReadOnlyList<DiagnosticDescriptorInfo> All { get; } = new[]
    {
        YamlSyntax, DuplicateKey, UnsupportedYaml, UnknownKey, WrongType, OutOfRange, UnknownName, MissingRequired,
        InvalidRecipeName, BaseNotFound, BaseCycle, NeedsTwoStage, CarlWithoutBoxLoss,
        OhemOneSided, AssignThresholds, BadOverride, BadVariants, UnknownVariant, BadLrSteps,
        NameDiffersFromFile, UnreadableFile, KeyNotForType, NotOptional, ClassifierForDetector, DeprecatedKey,
    };

    public static DiagnosticInfo Create(DiagnosticDescriptorInfo descriptor, SourceSpan span, params string[] arguments) =>
        new(descriptor, span, arguments.ToEquatableArray());
}
