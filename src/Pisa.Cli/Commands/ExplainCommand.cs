namespace Pisa.Cli.Commands;

/// <summary><c>pisa explain</c> (not built yet).</summary>
public sealed class ExplainCommand() : NotBuiltYetCommand("explain");
