namespace Pisa.Cli.Commands;

/// <summary><c>pisa eval</c> (not built yet).</summary>
public sealed class EvalCommand() : NotBuiltYetCommand("eval");
