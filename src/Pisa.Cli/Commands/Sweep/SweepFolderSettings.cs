using System.ComponentModel;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands.Sweep;

/// <summary>What every command on an existing sweep takes first: <c>pisa sweep run|submit|task|status|report DIR</c>.</summary>
public abstract class SweepFolderSettings : CommandSettings
{
    [CommandArgument(0, "<DIR>")]
    [Description("The sweep folder (written by 'pisa sweep plan'; for Slurm, on a file system the compute nodes share).")]
    public string Sweep { get; init; } = "";
}
