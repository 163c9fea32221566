namespace Pisa.Cli.Commands;

/// <summary><c>pisa variants</c> (not built yet).</summary>
public sealed class VariantsCommand() : NotBuiltYetCommand("variants");
