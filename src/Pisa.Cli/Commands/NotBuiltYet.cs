using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary>Settings of a command that takes free arguments; used while a command is not built yet.</summary>
public class PassThroughSettings : CommandSettings
{
    [CommandArgument(0, "[ARGS]")]
    public string[] Arguments { get; init; } = [];
}

/// <summary>Base of the commands that are listed but not built yet: they say so and exit with 1.</summary>
public abstract class NotBuiltYetCommand(string name) : Command<PassThroughSettings>
{
    public override int Execute(CommandContext context, PassThroughSettings settings, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"pisa {name}: not built yet in this version.");
        return PisaApp.UserError;
    }
}
