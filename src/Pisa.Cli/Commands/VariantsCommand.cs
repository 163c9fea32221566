using System.ComponentModel;
using Pisa.Recipes;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary><c>pisa variants</c>: each variant point's generated name and the values that make it.</summary>
public sealed class VariantsCommand : Command<VariantsCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RECIPE>")]
        [Description("The recipe file.")]
        public string Recipe { get; init; } = "";

        [CommandOption("--set <KEY=VALUE>")]
        [Description("Override a value before expanding the variants (repeatable).")]
        public string[] Set { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        RecipeLoadResult result = RecipeCommandSupport.Load(settings.Recipe, settings.Set);
        Recipe recipe = result.Recipe!;
        if (result.Points.Count == 0)
        {
            Console.Out.WriteLine($"{recipe.Name} has no variants; its one pipeline is {recipe.TypeName}");
            return PisaApp.Ok;
        }
        Console.Out.WriteLine($"{recipe.Name}: {result.Points.Count} variant points ({string.Join(" x ", recipe.Variants.Select(a => a.Key))})");
        int width = result.Points.Max(p => p.TypeName.Length);
        foreach (Recipe point in result.Points)
        {
            var settingsByPath = point.Settings.ToDictionary(s => s.Path, s => s.Value);
            string values = string.Join("  ", recipe.Variants.Select(a => $"{a.Key}={settingsByPath[a.Key]}"));
            Console.Out.WriteLine($"  {point.TypeName.PadRight(width)}  {values}");
        }
        return PisaApp.Ok;
    }
}
