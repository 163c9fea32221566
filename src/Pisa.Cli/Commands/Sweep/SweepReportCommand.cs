using System.ComponentModel;
using Pisa.Training.Sweeps;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Sweep;

/// <summary><c>pisa sweep report DIR [--baseline NAME]</c>: writes <c>report.md</c>, <c>report.csv</c> and <c>report.png</c> (see <see cref="SweepReport"/>).</summary>
public sealed class SweepReportCommand : Command<SweepReportCommand.Settings>
{
    public sealed class Settings : SweepFolderSettings
    {
        [CommandOption("--baseline <NAME>")]
        [Description("The variant to take differences against (default: the plan's).")]
        public string? Baseline { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var sweep = new SweepFolder(settings.Sweep);
        SweepPlan plan;
        try
        {
            plan = sweep.ReadPlan();
        }
        catch (SweepException ex)
        {
            throw new PisaUserException(ex.Message);
        }
        string baseline = settings.Baseline ?? plan.Baseline;
        if (!plan.Variants.Contains(baseline)) throw new PisaUserException($"--baseline {baseline}: not a variant of the sweep ({string.Join(", ", plan.Variants)})");
        var outcomes = SweepReport.Read(sweep, plan);
        SweepReport.Write(sweep, plan, outcomes, baseline);
        Console.Out.Write(SweepReport.Table(SweepReport.Summarise(outcomes, baseline)));
        Console.Out.WriteLine($"wrote {sweep.In("report.md")}, report.csv and report.png");
        return PisaApp.Ok;
    }
}
