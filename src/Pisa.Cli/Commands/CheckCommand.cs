using System.ComponentModel;
using System.Diagnostics;
using Pisa.Recipes;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary><c>pisa check</c>: every diagnostic of every recipe on stderr, then a summary line; exit 1 on any error.</summary>
public sealed class CheckCommand : Command<CheckCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<PATHS>")]
        [Description("Recipe files or folders (searched recursively for *.yaml and *.yml).")]
        public string[] Paths { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        CheckReport report = RecipeChecker.Check(settings.Paths);
        foreach (DiagnosticInfo diagnostic in report.Diagnostics) Console.Error.WriteLine(diagnostic);
        Console.Out.WriteLine($"{report.Summary} in {clock.ElapsedMilliseconds} ms");
        return report.Errors > 0 ? PisaApp.UserError : PisaApp.Ok;
    }
}
