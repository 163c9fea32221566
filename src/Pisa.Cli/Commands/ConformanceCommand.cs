namespace Pisa.Cli.Commands;

/// <summary><c>pisa conformance</c> (not built yet).</summary>
public sealed class ConformanceCommand() : NotBuiltYetCommand("conformance");
