namespace Pisa.Cli.Commands;

/// <summary><c>pisa bench</c> (not built yet).</summary>
public sealed class BenchCommand() : NotBuiltYetCommand("bench");
