using System.Reflection;
using Microsoft.CodeAnalysis;
using Pisa.Recipes;

namespace Pisa.Generators.Tests;

/// <summary>The generator's model is plain data: no Roslyn object can hide in it, and equal input gives equal models.</summary>
public class ModelTests
{
    [Fact]
    public void No_model_type_can_hold_a_symbol_a_syntax_node_a_location_or_a_compilation()
    {
        var roots = new[] { typeof(RecipeOutput), typeof(RecipeInput), typeof(AttributedInput), typeof(RecipeFile), typeof(CatalogEntry), typeof(Recipe) };
        var seen = new HashSet<Type>();
        var offenders = new List<string>();
        foreach (var root in roots) Walk(root, root.Name);
        Assert.Empty(offenders);
        Assert.Contains(typeof(Recipe), seen);
        Assert.Contains(typeof(SourceSpan), seen); // the walk really reaches the leaves

        void Walk(Type type, string path)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableEquatableArray<>)) { Walk(type.GetGenericArguments()[0], path + "[]"); return; }
            if (Nullable.GetUnderlyingType(type) is { } inner) { Walk(inner, path); return; }
            if (!seen.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal)) return;
            if (typeof(ISymbol).IsAssignableFrom(type) || typeof(SyntaxNode).IsAssignableFrom(type) || typeof(Location).IsAssignableFrom(type)
                || typeof(Microsoft.CodeAnalysis.Compilation).IsAssignableFrom(type) || type.Assembly == typeof(ISymbol).Assembly)
            {
                offenders.Add($"{path}: {type.FullName}");
                return;
            }
            if (type == typeof(object) || type.IsInterface || type.IsAbstract && !type.IsSealed && type != typeof(RecipeNode))
            {
                offenders.Add($"{path}: {type.FullName} (an open type could hold anything)");
                return;
            }
            if (type == typeof(RecipeNode))
            {
                foreach (var derived in typeof(RecipeNode).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(RecipeNode)))) Walk(derived, path + "<" + derived.Name + ">");
                return;
            }
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                Walk(field.FieldType, path + "." + field.Name);
        }
    }

    [Fact]
    public void Parsing_the_same_input_twice_gives_equal_models()
    {
        var files = GeneratorHarness.ShippedRecipes().Select(r => RecipeGenerator.Parser.ReadRecipeFile(r.Path, r.Text)).ToEquatableArray();
        foreach (var file in files)
        {
            var first = RecipeGenerator.Parser.ParseYaml(RecipeGenerator.Parser.InputOf(file, files));
            var copy = RecipeGenerator.Parser.ReadRecipeFile(file.Path, new string(file.Text.ToCharArray()));
            var second = RecipeGenerator.Parser.ParseYaml(RecipeGenerator.Parser.InputOf(copy, files));
            Assert.Equal(first, second);
            Assert.NotEmpty(first.Pipelines);
        }
    }
}
