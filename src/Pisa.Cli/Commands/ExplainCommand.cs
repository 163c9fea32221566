using System.ComponentModel;
using Pisa.Recipes;
using Spectre.Console.Cli;

namespace Pisa.Cli.Commands;

/// <summary>One part of <c>pisa explain</c>'s output. The seam for more: generated code, a run-time compile check.</summary>
public interface IExplainSection
{
    string Title { get; }

    /// <summary>The section's text for a resolved recipe.</summary>
    string Render(Recipe recipe);
}

/// <summary><c>pisa explain</c>: the resolved recipe and its stage graph (plus any registered <see cref="IExplainSection"/>).</summary>
public sealed class ExplainCommand : Command<ExplainCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RECIPE>")]
        [Description("The recipe file.")]
        public string Recipe { get; init; } = "";

        [CommandOption("--variant <NAME>")]
        [Description("Explain one variant point (its full name, or the part after the recipe's type name).")]
        public string? Variant { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("Override a value, e.g. --set loss.carl.k=2 (repeatable; validated like the recipe).")]
        public string[] Set { get; init; } = [];
    }

    /// <summary>The sections printed, in order. Another project's section (e.g. the generated code) is added here.</summary>
    public static List<IExplainSection> Sections { get; } = [new ResolvedRecipeSection(), new StageGraphSection(), new GeneratedCodeSection()];

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        RecipeLoadResult result = RecipeCommandSupport.Load(settings.Recipe, settings.Set);
        Recipe recipe = RecipeCommandSupport.Select(result, settings.Variant);
        foreach (IExplainSection section in Sections)
        {
            Console.Out.WriteLine($"# --- {section.Title} ---");
            Console.Out.Write(section.Render(recipe).TrimEnd('\n') + "\n");
        }
        if (settings.Variant is null && result.Points.Count > 0)
            Console.Out.WriteLine($"# {result.Points.Count} variant points: list them with 'pisa variants {settings.Recipe}', explain one with --variant NAME");
        return PisaApp.Ok;
    }

    private sealed class ResolvedRecipeSection : IExplainSection
    {
        public string Title => "resolved recipe";

        public string Render(Recipe recipe) => ResolvedRecipeWriter.Write(recipe);
    }

    /// <summary>The code the generator writes for this recipe (a variant point is shown as a recipe of its own values).</summary>
    private sealed class GeneratedCodeSection : IExplainSection
    {
        public string Title => "generated pipeline (C#)";

        public string Render(Recipe recipe)
        {
            var sources = Pisa.Compilation.RuntimePipelines.GenerateSources(recipe with { Variant = null, Variants = ImmutableEquatableArray<VariantAxis>.Empty });
            return sources.Where(s => s.Key != "RecipeCatalog.g.cs").Select(s => s.Value).FirstOrDefault() ?? "(no code: the generator reported errors)";
        }
    }

    private sealed class StageGraphSection : IExplainSection
    {
        public string Title => "stage graph";

        public string Render(Recipe recipe) => string.Join("\n", StageGraph.Describe(recipe));
    }
}
