using Pisa.Compilation;
using Pisa.Recipes;
using Pisa.Training.Engine;

namespace Pisa.Cli.Commands;

/// <summary>A run folder's recipe, read back from its resolved copy and compiled.</summary>
internal static class RunRecipe
{
    public static (Recipe Recipe, Pisa.Kernels.Pipeline.PipelineInfo Pipeline) Load(string runDirectory)
    {
        string path = Path.Combine(runDirectory, TrainingRuns.ResolvedRecipeFile);
        if (!File.Exists(path)) throw new PisaUserException($"{path}: not found ({runDirectory} is not a run folder)");
        var loaded = RecipeCommandSupport.Load(path, []);
        var recipe = loaded.Recipe!;
        return (recipe, RuntimePipelines.Default.Compile(recipe).Select(recipe));
    }
}
