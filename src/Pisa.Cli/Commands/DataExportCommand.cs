namespace Pisa.Cli.Commands;

/// <summary><c>pisa data export</c> (not built yet).</summary>
public sealed class DataExportCommand() : NotBuiltYetCommand("data export");
