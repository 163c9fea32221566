namespace Pisa.Cli.Tests;

/// <summary>Runs <see cref="PisaApp"/> in-process with captured console streams. Tests using it must not run in parallel.</summary>
[CollectionDefinition(nameof(CliRunner), DisableParallelization = true)]
public static class CliRunner
{
    private static readonly object Gate = new();

    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        lock (Gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (output, error) = (new StringWriter(), new StringWriter());
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                int code = PisaApp.Run(args);
                return (code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }
}
