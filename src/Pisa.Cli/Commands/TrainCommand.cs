namespace Pisa.Cli.Commands;

/// <summary><c>pisa train</c> (not built yet).</summary>
public sealed class TrainCommand() : NotBuiltYetCommand("train");
