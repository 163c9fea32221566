using System.ComponentModel;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Bench;

/// <summary>The recipe options of <c>pisa bench recipe</c> and <c>pisa bench step</c>: one variant point, overrides.</summary>
public abstract class BenchRecipeSettings : BenchSettings
{
    [CommandOption("--variant <NAME>")]
    [Description("One variant point.")]
    public string? Variant { get; init; }

    [CommandOption("--set <KEY=VALUE>")]
    [Description("Override a value (repeatable).")]
    public string[] Set { get; init; } = [];
}
