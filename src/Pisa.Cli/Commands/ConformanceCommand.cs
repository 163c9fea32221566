using System.ComponentModel;
using Pisa.Conformance;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary><c>pisa conformance &lt;files or folders&gt;…</c>: one line per case, a summary line, exit 0 only if all pass.</summary>
public sealed class ConformanceCommand : Command<ConformanceCommand.Settings>
{
    /// <summary>The case files and folders to run.</summary>
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<PATHS>")]
        [Description("Case files (*.json) or folders holding them (searched recursively).")]
        public string[] Paths { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var missing = settings.Paths.Where(p => !File.Exists(p) && !Directory.Exists(p)).ToList();
        if (missing.Count > 0) throw new PisaUserException($"pisa conformance: no such file or folder: {string.Join(", ", missing)}");
        var files = ConformanceRunner.CaseFiles(settings.Paths);
        if (files.Count == 0) throw new PisaUserException($"pisa conformance: no *.json case files under {string.Join(", ", settings.Paths)}");

        var results = new List<CaseResult>(files.Count);
        foreach (string file in files)
        {
            var result = ConformanceRunner.RunFile(file);
            results.Add(result);
            Console.WriteLine(result);
        }
        Console.WriteLine(ConformanceRunner.Summary(results));
        return results.All(r => r.Passed) ? PisaApp.Ok : PisaApp.UserError;
    }
}
