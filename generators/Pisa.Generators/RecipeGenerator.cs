using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Pisa.Recipes;

namespace Pisa.Generators;

/// <summary>
/// Turns recipes into pipeline classes. Two front doors — recipe YAML files passed as AdditionalFiles and
/// <c>[Recipe]</c>-attributed partial classes — are parsed into the one recipe model (<see cref="Parser"/>), and one
/// emitter writes the code (<see cref="Emitter"/>). Every step's output is value-equal data, so an edit regenerates
/// only the pipelines it changes.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RecipeGenerator : IIncrementalGenerator
{
    /// <summary>The attribute that marks a recipe class.</summary>
    public const string RecipeAttributeName = "Pisa.Recipes.RecipeAttribute";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var recipeFiles = context.AdditionalTextsProvider
            .Where(static text => Parser.IsRecipePath(text.Path))
            .Select(static (text, cancellationToken) => Parser.ReadRecipeFile(text.Path, text.GetText(cancellationToken)?.ToString() ?? ""))
            .WithTrackingName(TrackingNames.RecipeFiles);

        // Bases are looked up among all recipe files; each parse is handed only the files its base chain reads, so an
        // edit re-parses the edited file and the files that inherit it, and nothing else.
        var allRecipeFiles = recipeFiles.Collect()
            .Select(static (files, _) => files.OrderBy(f => f.Path, StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.AllRecipeFiles);

        var yamlRecipes = recipeFiles.Combine(allRecipeFiles)
            .Select(static (pair, _) => Parser.InputOf(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.RecipeInputs)
            .Select(static (input, _) => Parser.ParseYaml(input))
            .WithTrackingName(TrackingNames.YamlRecipes);

        var attributedRecipes = context.SyntaxProvider
            .ForAttributeWithMetadataName(RecipeAttributeName,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
                transform: static (attributeContext, cancellationToken) => Parser.ReadAttributedClass(attributeContext, cancellationToken))
            .Combine(allRecipeFiles)
            .Select(static (pair, _) => Parser.InputOf(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.AttributedInputs)
            .Select(static (input, _) => Parser.ParseAttributed(input))
            .WithTrackingName(TrackingNames.AttributedRecipes);

        var merged = yamlRecipes.Collect().Combine(attributedRecipes.Collect())
            .Select(static (pair, _) => Parser.Merge(pair.Left.Concat(pair.Right)))
            .WithTrackingName(TrackingNames.Merged);

        var diagnostics = merged.SelectMany(static (output, _) => output.Diagnostics).WithTrackingName(TrackingNames.Diagnostics);
        var pipelines = merged.SelectMany(static (output, _) => output.Pipelines).WithTrackingName(TrackingNames.Pipelines);
        var stubs = merged.SelectMany(static (output, _) => output.Stubs).WithTrackingName(TrackingNames.Stubs);
        var catalog = merged.Select(static (output, _) => output.Catalog).WithTrackingName(TrackingNames.Catalog);

        // Every diagnostic was made by the parse; the emitter only writes code for pipelines the checker accepted.
        context.RegisterSourceOutput(diagnostics, static (production, info) => production.ReportDiagnostic(Diagnostics.ToDiagnostic(info)));
        context.RegisterSourceOutput(pipelines, static (production, spec) => production.AddSource(spec.HintName, Emitter.Emit(spec)));
        context.RegisterSourceOutput(stubs, static (production, stub) => production.AddSource(stub.HintName, Emitter.EmitStub(stub)));
        context.RegisterSourceOutput(catalog, static (production, entries) =>
        {
            if (entries.Count > 0) production.AddSource("RecipeCatalog.g.cs", Emitter.EmitCatalog(entries));
        });
    }
}
