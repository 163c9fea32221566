using System.ComponentModel;
using Pisa.Training.Engine;
using Pisa.Training.Runs;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary>
/// <c>pisa compare RUN… [--out DIR]</c>: one row per run folder (its last evaluation, wall time and whether every
/// logged loss stayed finite), printed, and with <c>--out</c> written as <c>compare.md</c> and <c>compare.csv</c>.
/// </summary>
public sealed class CompareCommand : Command<CompareCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("Run folders (runs/<recipe>/<variant>/<time>), in the order of the table's rows.")]
        public string[] Runs { get; init; } = [];

        [CommandOption("--out <DIR>")]
        [Description("Also write the table as DIR/compare.md and DIR/compare.csv.")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        IReadOnlyList<RunSummary> runs;
        try
        {
            runs = settings.Runs.Select(RunSummary.Read).ToList();
        }
        catch (TrainingException ex)
        {
            throw new PisaUserException(ex.Message);
        }
        RunComparison.Print(runs);
        if (settings.Out is not null) RunComparison.Write(runs, settings.Out, "compare");
        return PisaApp.Ok;
    }
}
