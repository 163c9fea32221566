namespace Pisa.Cli.Commands;

/// <summary><c>pisa check</c> (not built yet).</summary>
public sealed class CheckCommand() : NotBuiltYetCommand("check");
