using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Pisa.Recipes;

namespace Pisa.Generators;

public sealed partial class RecipeGenerator
{
    /// <summary>Both front doors → the recipe model. All validation is the recipe library's: one set of rules.</summary>
    internal static class Parser
    {
        /// <summary>The namespace of pipelines generated from YAML recipes.</summary>
        public const string YamlNamespace = "Pisa.Pipelines";

        public static bool IsRecipePath(string path) =>
            path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

        /// <summary>A YAML recipe file, its bases looked up among <paramref name="allFiles"/>.</summary>
        public static RecipeOutput ParseYaml(RecipeFile file, ImmutableEquatableArray<RecipeFile> allFiles)
        {
            try
            {
                var loader = new RecipeLoader(Source(allFiles));
                var loaded = loader.LoadText(file.Text, file.Path);
                return ToOutput(loaded, YamlNamespace, userClass: null, accessibility: "public", origin: Path.GetFileName(file.Path));
            }
            catch (Exception ex)
            {
                // The generator never throws: a bug becomes a diagnostic on the file, not a silent CS8785.
                return Failure(SourceSpan.Whole(file.Path), ex);
            }
        }

        /// <summary>Reads an attributed class into plain data (no symbols survive this step).</summary>
        public static AttributedClass ReadAttributedClass(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            var declaration = (ClassDeclarationSyntax)context.TargetNode;
            string ns = symbol.ContainingNamespace.IsGlobalNamespace ? "" : symbol.ContainingNamespace.ToDisplayString();
            var origin = SpanOf(declaration.Identifier.GetLocation());
            var diagnostics = new List<DiagnosticInfo>();
            if (!declaration.Modifiers.Any(m => m.Text == "partial"))
                diagnostics.Add(Diagnostics.Create(Diagnostics.NotPartial, origin, symbol.Name));
            if (symbol.ContainingType is not null)
                diagnostics.Add(Diagnostics.Create(Diagnostics.NestedOrGeneric, origin, symbol.Name, "nested in " + symbol.ContainingType.Name));
            else if (symbol.IsGenericType)
                diagnostics.Add(Diagnostics.Create(Diagnostics.NestedOrGeneric, origin, symbol.Name, "generic"));

            var settings = new List<LocatedSetting>();
            foreach (var attribute in symbol.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (attribute.AttributeClass is not { } attributeClass || attributeClass.ContainingNamespace?.ToDisplayString() != "Pisa.Recipes") continue;
                var span = attribute.ApplicationSyntaxReference is { } reference ? SpanOf(reference.GetSyntax(cancellationToken).GetLocation()) : origin;
                if (attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error) || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error))
                    continue; // the compiler already reports the broken argument
                settings.AddRange(RecipeAttributeMap.Settings(
                    attributeClass.Name,
                    attribute.ConstructorArguments.Select(ValueOf).ToList(),
                    attribute.NamedArguments.Select(n => new KeyValuePair<string, object?>(n.Key, ValueOf(n.Value))),
                    span));
            }
            string accessibility = symbol.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
            return new AttributedClass(ns, symbol.Name, accessibility, origin, settings.ToEquatableArray(), diagnostics.ToEquatableArray());
        }

        /// <summary>An attributed class's settings through the same loader as YAML; <c>Base</c> is looked up by name among the recipe files.</summary>
        public static RecipeOutput ParseAttributed(AttributedClass type, ImmutableEquatableArray<RecipeFile> allFiles)
        {
            try
            {
                if (type.Diagnostics.Any(d => d.Severity == Pisa.Recipes.DiagnosticSeverity.Error))
                    return new RecipeOutput(ImmutableEquatableArray<PipelineSpec>.Empty, type.Diagnostics);
                string? baseFolder = BaseFolder(type.Settings, allFiles, FolderOf(type.Origin.Path));
                var loaded = new RecipeLoader(Source(allFiles)).LoadSettings(type.Settings, type.Origin, baseFolder);
                var output = ToOutput(loaded, type.Namespace, type.ClassName, type.Accessibility, origin: type.ClassName + ".cs");
                return output with { Diagnostics = type.Diagnostics.Concat(output.Diagnostics).ToEquatableArray() };
            }
            catch (Exception ex)
            {
                return Failure(type.Origin, ex);
            }
        }

        /// <summary>Joins every input's output; two inputs that generate the same type are an error on the second.</summary>
        public static RecipeOutput Merge(IEnumerable<RecipeOutput> outputs)
        {
            var pipelines = new List<PipelineSpec>();
            var diagnostics = new List<DiagnosticInfo>();
            var seen = new Dictionary<string, PipelineSpec>(StringComparer.Ordinal);
            foreach (var output in outputs)
            {
                diagnostics.AddRange(output.Diagnostics);
                foreach (var spec in output.Pipelines)
                {
                    if (seen.TryGetValue(spec.FullName, out var first))
                    {
                        diagnostics.Add(Diagnostics.Create(Diagnostics.DuplicatePipeline, SourceSpan.Whole(spec.Origin), spec.FullName, first.Origin, spec.Origin));
                        continue;
                    }
                    seen.Add(spec.FullName, spec);
                    pipelines.Add(spec);
                }
            }
            // A stand-in only where nothing else generates the type.
            var stubs = outputs.SelectMany(o => o.Stubs).Where(s => !seen.ContainsKey(s.FullName))
                .GroupBy(s => s.FullName, StringComparer.Ordinal).Select(g => g.First());
            return new RecipeOutput(pipelines.ToEquatableArray(), diagnostics.ToEquatableArray()) { Stubs = stubs.ToEquatableArray() };
        }

        private static RecipeOutput ToOutput(RecipeLoadResult loaded, string ns, string? userClass, string accessibility, string origin)
        {
            if (loaded.HasErrors)
                return new RecipeOutput(ImmutableEquatableArray<PipelineSpec>.Empty, loaded.Diagnostics) { Stubs = Stubs(loaded, ns, userClass, accessibility, origin) };
            var specs = loaded.Pipelines.Select(recipe =>
            {
                // An attributed class receives the recipe itself; its variant points become sibling classes.
                bool fills = userClass is not null && recipe.Variant is null;
                string typeName = fills ? userClass! : userClass is not null ? userClass + recipe.TypeName.Substring(recipe.TypeName.IndexOf('_')) : recipe.TypeName;
                string hint = (ns.Length == 0 ? typeName : ns + "." + typeName) + ".g.cs";
                var origins = recipe.Settings.Where(v => v.Origin is { HasLines: true })
                    .Select(v => new ValueOrigin(v.Path, Path.GetFileName(v.Origin!.Value.Path), v.Origin.Value.Line)).ToEquatableArray();
                return new PipelineSpec(recipe, ns, typeName, fills, accessibility, origin, hint, origins);
            });
            return new RecipeOutput(specs.ToEquatableArray(), loaded.Diagnostics);
        }

        /// <summary>
        /// Stand-ins for what a recipe with errors declares: the YAML recipe's types (or its variant points'), an
        /// attributed class and its variant siblings.
        /// </summary>
        private static ImmutableEquatableArray<StubSpec> Stubs(RecipeLoadResult loaded, string ns, string? userClass, string accessibility, string origin)
        {
            var error = loaded.Diagnostics.First(d => d.Severity == Pisa.Recipes.DiagnosticSeverity.Error);
            string text = $"{Path.GetFileName(error.Span.Path)}({error.Span.Line},{error.Span.Column}): error {error.Id}: {error.Message}";
            // (type, variant): a variant point's type is its variant name, or for an attributed class the class's name
            // with the point's suffix; the attributed class itself is always there.
            var types = loaded.TypeNames.Select(name => name.IndexOf('_') is int i and >= 0
                ? (Type: userClass is null ? name : userClass + name.Substring(i), Variant: (string?)name)
                : (Type: userClass ?? name, Variant: null));
            if (userClass is not null) types = types.Prepend((userClass, null));
            return types.GroupBy(t => t.Type, StringComparer.Ordinal).Select(g => g.First())
                .Where(t => Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(t.Type))
                .Select(t => new StubSpec(ns, t.Type, t.Type == userClass, accessibility, origin, loaded.RecipeName, t.Variant, text))
                .ToEquatableArray();
        }

        private static RecipeOutput Failure(SourceSpan span, Exception ex) => new(
            ImmutableEquatableArray<PipelineSpec>.Empty,
            ImmutableEquatableArray.Create(Diagnostics.Create(Diagnostics.GeneratorFailure, span, ex.GetType().Name + ": " + ex.Message)));

        private static InMemoryRecipeSource Source(ImmutableEquatableArray<RecipeFile> files) =>
            new(files.Select(f => new KeyValuePair<string, string>(f.Path, f.Text)));

        /// <summary>
        /// Where an attributed recipe's <c>Base</c> name is looked up: the folder of the recipe file of that name, if any;
        /// null when there is none, so the loader goes on to the shipped recipes and says where it looked. A relative
        /// path is relative to the class's file.
        /// </summary>
        private static string? BaseFolder(IEnumerable<LocatedSetting> settings, ImmutableEquatableArray<RecipeFile> files, string classFolder)
        {
            string? baseName = settings.Where(s => s.Path == "base").Select(s => (s.Value as ScalarNode)?.Text).LastOrDefault();
            if (baseName is null) return null;
            if (baseName.IndexOfAny(['/', '\\']) >= 0 || IsRecipePath(baseName)) return classFolder;
            var match = files.FirstOrDefault(f => string.Equals(Path.GetFileNameWithoutExtension(f.Path), baseName, StringComparison.Ordinal));
            return match is null ? null : FolderOf(match.Path);
        }

        private static string FolderOf(string path) => Path.GetDirectoryName(path) is { Length: > 0 } folder ? folder : ".";

        private static object? ValueOf(TypedConstant constant) => constant.Kind switch
        {
            TypedConstantKind.Array => constant.Values.Select(ValueOf).ToArray(),
            _ => constant.Value,
        };

        private static SourceSpan SpanOf(Location location)
        {
            var lines = location.GetLineSpan();
            return new SourceSpan(lines.Path, lines.StartLinePosition.Line + 1, lines.StartLinePosition.Character + 1,
                lines.EndLinePosition.Line + 1, lines.EndLinePosition.Character + 1)
            { StartIndex = location.SourceSpan.Start, EndIndex = location.SourceSpan.End };
        }
    }
}
