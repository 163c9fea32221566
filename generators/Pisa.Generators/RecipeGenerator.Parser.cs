using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
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

        /// <summary>A recipe file as the first step reads it: its text and the base it names.</summary>
        public static RecipeFile ReadRecipeFile(string path, string text) => new(path, text, BaseNameIn(text, path));

        private static string? BaseNameIn(string text, string path)
        {
            try
            {
                return RecipeBases.NameIn(text, path);
            }
            catch (Exception)
            {
                return null; // the parse reports what is wrong with the file
            }
        }

        /// <summary>A YAML recipe with the project files its base chain reads, found among <paramref name="allFiles"/>.</summary>
        public static RecipeInput InputOf(RecipeFile file, ImmutableEquatableArray<RecipeFile> allFiles)
        {
            var (bases, listed) = BaseChain(file.BaseName, FolderOf(file.Path), file.Path, allFiles);
            return new RecipeInput(file, bases, listed);
        }

        /// <summary>An attributed class with the project files its <c>Base</c> reads.</summary>
        public static AttributedInput InputOf(AttributedClass type, ImmutableEquatableArray<RecipeFile> allFiles)
        {
            string? baseName = BaseNameOf(type.Settings);
            string? baseFolder = baseName is null ? null : BaseFolder(baseName, allFiles, FolderOf(type.Origin.Path));
            var (bases, listed) = BaseChain(baseName, baseFolder, type.Origin.Path, allFiles);
            return new AttributedInput(type, baseFolder, bases, listed);
        }

        /// <summary>A YAML recipe file, its bases read from <see cref="RecipeInput.Bases"/>.</summary>
        public static RecipeOutput ParseYaml(RecipeInput input)
        {
            var file = input.File;
            try
            {
                var loader = new RecipeLoader(new InputSource(input.Bases.Prepend(file), input.Listed));
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
        public static RecipeOutput ParseAttributed(AttributedInput input)
        {
            var type = input.Class;
            try
            {
                if (type.Diagnostics.Any(d => d.Severity == Pisa.Recipes.DiagnosticSeverity.Error))
                    return new RecipeOutput(ImmutableEquatableArray<PipelineSpec>.Empty, type.Diagnostics);
                var loaded = new RecipeLoader(new InputSource(input.Bases, input.Listed)).LoadSettings(type.Settings, type.Origin, input.BaseFolder);
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
            var catalog = new List<CatalogEntry>();
            var diagnostics = new List<DiagnosticInfo>();
            var seen = new Dictionary<string, PipelineSpec>(StringComparer.Ordinal);
            foreach (var output in outputs)
            {
                diagnostics.AddRange(output.Diagnostics);
                for (int i = 0; i < output.Pipelines.Count; i++)
                {
                    var spec = output.Pipelines[i];
                    if (seen.TryGetValue(spec.FullName, out var first))
                    {
                        diagnostics.Add(Diagnostics.Create(Diagnostics.DuplicatePipeline, SourceSpan.Whole(spec.Origin), spec.FullName, first.Origin, spec.Origin));
                        continue;
                    }
                    seen.Add(spec.FullName, spec);
                    pipelines.Add(spec);
                    catalog.Add(output.Catalog[i]);
                }
            }
            // A stand-in only where nothing else generates the type.
            var stubs = outputs.SelectMany(o => o.Stubs).Where(s => !seen.ContainsKey(s.FullName))
                .GroupBy(s => s.FullName, StringComparer.Ordinal).Select(g => g.First());
            return new RecipeOutput(pipelines.ToEquatableArray(), diagnostics.ToEquatableArray()) { Stubs = stubs.ToEquatableArray(), Catalog = catalog.ToEquatableArray() };
        }

        private static RecipeOutput ToOutput(RecipeLoadResult loaded, string ns, string? userClass, string accessibility, string origin)
        {
            if (loaded.HasErrors)
                return new RecipeOutput(ImmutableEquatableArray<PipelineSpec>.Empty, loaded.Diagnostics) { Stubs = Stubs(loaded, ns, userClass, accessibility, origin) };
            var specs = loaded.Pipelines.Select(recipe =>
            {
                var spec = SpecOf(recipe, ns, userClass, accessibility, origin);
                return (Spec: spec, Entry: CatalogEntryOf(spec.FullName, recipe));
            }).ToList();
            return new RecipeOutput(specs.Select(s => s.Spec).ToEquatableArray(), loaded.Diagnostics) { Catalog = specs.Select(s => s.Entry).ToEquatableArray() };
        }

        private static PipelineSpec SpecOf(Recipe recipe, string ns, string? userClass, string accessibility, string origin)
        {
                // An attributed class receives the recipe itself; its variant points become sibling classes.
                bool fills = userClass is not null && recipe.Variant is null;
                string typeName = fills ? userClass! : userClass is not null ? userClass + recipe.TypeName.Substring(recipe.TypeName.IndexOf('_')) : recipe.TypeName;
                string hint = (ns.Length == 0 ? typeName : ns + "." + typeName) + ".g.cs";
                var origins = recipe.Settings.Where(v => v.Origin is { HasLines: true } && PipelineRecipe.IsCodeSetting(v.Path))
                    .Select(v => new ValueOrigin(v.Path, Path.GetFileName(v.Origin!.Value.Path), v.Origin.Value.Line)).ToEquatableArray();
                return new PipelineSpec(PipelineRecipe.Of(recipe), ns, typeName, fills, accessibility, origin, hint, origins);
        }

        private static CatalogEntry CatalogEntryOf(string fullName, Recipe recipe) =>
            new(recipe.Name, recipe.Variant, fullName, recipe.Detector == DetectorKind.TwoStage, ResolvedRecipeWriter.Write(recipe));

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

        /// <summary>
        /// The project files a base chain reads, from the base <paramref name="baseName"/> looked up in
        /// <paramref name="folder"/> (by <see cref="RecipeBases"/>, the loader's rule), and the recipe files of the folder
        /// where a base was not found (the loader lists them for "did you mean"). Stops at a shipped base or a cycle.
        /// </summary>
        private static (ImmutableEquatableArray<RecipeFile> Bases, ImmutableEquatableArray<string> Listed) BaseChain(
            string? baseName, string? folder, string selfPath, ImmutableEquatableArray<RecipeFile> allFiles)
        {
            var index = FileIndex.Of(allFiles);
            var bases = new List<RecipeFile>();
            var read = new HashSet<string>(StringComparer.Ordinal) { Path.GetFullPath(selfPath) };
            var listed = ImmutableEquatableArray<string>.Empty;
            while (baseName is not null && folder is not null)
            {
                var candidates = RecipeBases.Candidates(baseName, folder);
                if (candidates.Count == 0) break; // pisa/NAME: shipped, not a project file
                var found = candidates.Select(index.Find).FirstOrDefault(f => f is not null);
                if (found is null)
                {
                    if (RecipeBases.IsPath(baseName) || ShippedRecipes.Text(baseName) is null) listed = index.InFolder(folder);
                    break;
                }
                if (!read.Add(Path.GetFullPath(found.Path))) break; // a cycle: the loader reports it from the files it has
                bases.Add(found);
                (baseName, folder) = (found.BaseName, FolderOf(found.Path));
            }
            return (bases.ToEquatableArray(), listed);
        }

        /// <summary>
        /// Where an attributed recipe's <c>Base</c> name is looked up: the folder of the recipe file of that name, if any;
        /// null when there is none, so the loader goes on to the shipped recipes and says where it looked. A relative
        /// path is relative to the class's file.
        /// </summary>
        private static string? BaseFolder(string baseName, ImmutableEquatableArray<RecipeFile> files, string classFolder)
        {
            if (RecipeBases.IsPath(baseName)) return classFolder;
            var match = files.FirstOrDefault(f => string.Equals(Path.GetFileNameWithoutExtension(f.Path), baseName, StringComparison.Ordinal));
            return match is null ? null : FolderOf(match.Path);
        }

        private static string? BaseNameOf(IEnumerable<LocatedSetting> settings) =>
            settings.Where(s => s.Path == "base").Select(s => (s.Value as ScalarNode)?.Text).LastOrDefault();

        private static string FolderOf(string path) => Path.GetDirectoryName(path) is { Length: > 0 } folder ? folder : ".";

        /// <summary>The files one parse may read (its own and its base chain's) and the folder listings it was given.</summary>
        private sealed class InputSource(IEnumerable<RecipeFile> files, ImmutableEquatableArray<string> listed) : IRecipeSource
        {
            private readonly Dictionary<string, string> _texts = files.ToDictionary(f => Path.GetFullPath(f.Path), f => f.Text, StringComparer.Ordinal);

            public string? ReadText(string path) => _texts.TryGetValue(Path.GetFullPath(path), out string? text) ? text : null;

            public IEnumerable<string> ListRecipes(string folder) =>
                listed.Where(p => string.Equals(Path.GetDirectoryName(Path.GetFullPath(p)), Path.GetFullPath(folder), StringComparison.Ordinal));
        }

        /// <summary>
        /// Lookups into one set of recipe files by full path and by folder, built once per set (the set is the
        /// <see cref="TrackingNames.AllRecipeFiles"/> value every input shares) and kept out of the model.
        /// </summary>
        private sealed class FileIndex
        {
            private static readonly ConditionalWeakTable<ImmutableEquatableArray<RecipeFile>, FileIndex> Built = new();
            private readonly Dictionary<string, RecipeFile> _byPath = new(StringComparer.Ordinal);
            private readonly Dictionary<string, List<string>> _byFolder = new(StringComparer.Ordinal);

            private FileIndex(ImmutableEquatableArray<RecipeFile> files)
            {
                foreach (var file in files)
                {
                    string full = Path.GetFullPath(file.Path);
                    if (!_byPath.ContainsKey(full)) _byPath.Add(full, file);
                    string folder = Path.GetDirectoryName(full) ?? "";
                    if (!_byFolder.TryGetValue(folder, out var paths)) _byFolder.Add(folder, paths = new List<string>());
                    paths.Add(file.Path);
                }
            }

            public static FileIndex Of(ImmutableEquatableArray<RecipeFile> files) => Built.GetValue(files, static f => new FileIndex(f));

            public RecipeFile? Find(string path) => _byPath.TryGetValue(Path.GetFullPath(path), out var file) ? file : null;

            public ImmutableEquatableArray<string> InFolder(string folder) =>
                _byFolder.TryGetValue(Path.GetFullPath(folder), out var paths) ? paths.ToEquatableArray() : ImmutableEquatableArray<string>.Empty;
        }

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
