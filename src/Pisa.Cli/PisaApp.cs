using Pisa.Cli.Commands;
using Pisa.Cli.Commands.Bench;
using Pisa.Cli.Commands.Sweep;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pisa.Cli;

/// <summary>The <c>pisa</c> command line: one place that lists every command and maps failures to exit codes.</summary>
public static class PisaApp
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>User error: bad recipe, bad data, failed cases, bad arguments.</summary>
    public const int UserError = 1;
    /// <summary>Internal error: a bug in pisa.</summary>
    public const int InternalError = 2;

    public static int Run(string[] args)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("pisa");
            config.SetApplicationVersion(typeof(PisaApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            config.PropagateExceptions();
            // Bound to the current Console.Out so output can be redirected (tests, pipes); colour only on a terminal.
            config.ConfigureConsole(AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(Console.Out),
                Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            }));
            config.AddCommand<TrainCommand>("train").WithDescription("Train a recipe (all variants with --variant all), evaluate, write the run folder.");
            config.AddCommand<CompareCommand>("compare").WithDescription("Tabulate runs side by side (AP…, score-IoU correlation, wall time, finite losses); --out writes Markdown + CSV.");
            config.AddCommand<EvalCommand>("eval").WithDescription("COCO-style bbox evaluation of a run, a checkpoint, or a results file (--gt, --detections).");
            config.AddCommand<ExportCommand>("export").WithDescription("Write a run's detector as a PyTorch or safetensors state_dict plus an architecture JSON.");
            config.AddCommand<DetectCommand>("detect").WithDescription("Run a trained detector on image files: COCO results JSON and each image with its boxes drawn (PNG).");
            config.AddCommand<CheckCommand>("check").WithDescription("Validate recipes (files or folders); print every diagnostic; exit 1 on any error.");
            config.AddCommand<ExplainCommand>("explain").WithDescription("Print the resolved recipe and its stage graph.");
            config.AddCommand<VariantsCommand>("variants").WithDescription("List a recipe's variant points and their generated names.");
            config.AddCommand<DoctorCommand>("doctor").WithDescription("Platform facts (CPU, SIMD, libtorch, oneDNN, convolution backend) and numerical self-checks; exit 1 on a failure.");
            config.AddCommand<ConformanceCommand>("conformance").WithDescription("Run conformance case files or folders; exit 0 only if all pass.");
            config.AddBranch("bench", bench =>
            {
                bench.SetDescription("Benchmarks: each prints ratios measured side by side in one run and writes JSON (--json).");
                bench.AddCommand<BenchKernelsCommand>("kernels").WithDescription("The sampling stage on WORKLOAD.md's instance and generated sizes: ms per stage, tensor operations, against the loop port and the reference's times.");
                bench.AddCommand<BenchStepCommand>("step").WithDescription("One training step by phase for a recipe or every shipped one, and each recipe's ratio to faster-rcnn.");
                bench.AddCommand<BenchRoIAlignCommand>("roialign").WithDescription("Our RoIAlign against torchvision's C++ roi_align on the same features and boxes.");
                bench.AddCommand<BenchRecipeCommand>("recipe").WithDescription("Compile a recipe at run time and time one step of its pipeline.");
                bench.AddCommand<BenchGeneratorCommand>("generator").WithDescription("The generator's cold and edit times, run-time compile costs, generated vs hand-written step.");
            });
            config.AddBranch("sweep", sweep =>
            {
                sweep.SetDescription("Variant x seed grids: plan a sweep folder, run it here or as a Slurm job array, follow it, report mean ± std.");
                sweep.AddCommand<SweepPlanCommand>("plan").WithDescription("Validate a recipe and write a sweep folder of (variant, seed) tasks (sweep.json).");
                sweep.AddCommand<SweepRunCommand>("run").WithDescription("Run a sweep's unfinished tasks on this machine (--local), then write its report.");
                sweep.AddCommand<SweepSubmitCommand>("submit").WithDescription("Submit a sweep's unfinished tasks as one Slurm job array plus a report job (--slurm).");
                sweep.AddCommand<SweepTaskCommand>("task").WithDescription("Run (or resume) one task of a sweep: what each local process or array task executes.");
                sweep.AddCommand<SweepStatusCommand>("status").WithDescription("Per task: pending, running, done, failed or preempted, with Slurm's view.");
                sweep.AddCommand<SweepReportCommand>("report").WithDescription("Write report.md, report.csv and report.png: mean ± std over seeds per variant.");
            });
            config.AddBranch("data", data =>
            {
                data.SetDescription("Data set utilities.");
                data.AddCommand<DataExportCommand>("export").WithDescription("Write a data set (e.g. builtin:shapes) as COCO JSON + PNG files.");
            });
        });

        try
        {
            return app.Run(args);
        }
        catch (CommandParseException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message} (see 'pisa --help')");
            return UserError;
        }
        catch (CommandRuntimeException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return UserError;
        }
        catch (Exception ex) when (ex is PisaUserException or Pisa.Training.Platform.PlatformSettingException)
        {
            Console.Error.WriteLine(ex.Message);
            return UserError;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"internal error (a bug in pisa, please report it): {ex}");
            return InternalError;
        }
    }
}

/// <summary>A failure caused by the user's input; its message is printed as is and the exit code is 1.</summary>
public sealed class PisaUserException(string message) : Exception(message);
