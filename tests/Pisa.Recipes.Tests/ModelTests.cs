using System.Reflection;
using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>The model is plain, value-equal data that a source generator can cache, and its enums match the recipe names.</summary>
public class ModelTests
{
    [Fact]
    public void The_model_is_plain_equatable_data()
    {
        var seen = new HashSet<Type>();
        var problems = new List<string>();
        Walk(typeof(Recipe), "Recipe", seen, problems);
        Walk(typeof(DiagnosticInfo), "DiagnosticInfo", seen, problems);
        Assert.Empty(problems);
        Assert.Contains(typeof(ReweightSettings), seen); // the walk reached the leaves
    }

    private static void Walk(Type type, string where, HashSet<Type> seen, List<string> problems)
    {
        if (!seen.Add(type)) return;
        Type bare = Nullable.GetUnderlyingType(type) ?? type;
        if (bare.IsPrimitive || bare.IsEnum || bare == typeof(string)) return;
        if (bare.IsGenericType && bare.GetGenericTypeDefinition() == typeof(ImmutableEquatableArray<>))
        {
            Walk(bare.GetGenericArguments()[0], where + "[]", seen, problems);
            return;
        }
        bool isRecord = bare.GetMethod("<Clone>$") is not null || (bare.IsValueType && bare.Namespace == "Pisa.Recipes");
        bool equatable = typeof(IEquatable<>).MakeGenericType(bare).IsAssignableFrom(bare);
        if (bare.Assembly != typeof(Recipe).Assembly || !isRecord || !equatable)
        {
            problems.Add($"{where}: {bare.FullName} is not a string, number, enum, ImmutableEquatableArray or model record");
            return;
        }
        foreach (PropertyInfo property in bare.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            Walk(property.PropertyType, $"{where}.{property.Name}", seen, problems);
    }

    [Fact]
    public void The_recipes_assembly_depends_on_yamldotnet_only()
    {
        var references = typeof(Recipe).Assembly.GetReferencedAssemblies().Select(a => a.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["YamlDotNet", "netstandard"], references); // ordinal: upper case first
    }

    [Theory]
    [InlineData("compat", typeof(CompatMode))]
    [InlineData("detector", typeof(DetectorKind))]
    [InlineData("sample.positives.type", typeof(PositiveSamplerKind))]
    [InlineData("sample.negatives.type", typeof(NegativeSamplerKind))]
    [InlineData("loss.cls.type", typeof(ClassificationLossKind))]
    [InlineData("loss.box.type", typeof(BoxLossKind))]
    [InlineData("box_coder", typeof(BoxCoderKind))]
    [InlineData("train.schedule", typeof(LrSchedule))]
    public void Each_enum_lists_its_key_names_in_order(string key, Type enumType)
    {
        // The attribute map turns an enum's number into the key's name at the same index.
        Assert.Equal(RecipeKeys.Find(key)!.Names.Select(RecipeNames.Pascal), Enum.GetNames(enumType));
    }

    [Theory]
    [InlineData("pisa-faster-rcnn", "PisaFasterRcnn")]
    [InlineData("retinanet", "Retinanet")]
    [InlineData("libra2-rcnn", "Libra2Rcnn")]
    public void A_recipe_name_becomes_a_type_name(string name, string typeName) => Assert.Equal(typeName, RecipeNames.TypeName(name));

    [Theory]
    [InlineData("0.2", "0p2")]
    [InlineData("2.0", "2")]
    [InlineData("-1", "m1")]
    [InlineData("score_hlr", "ScoreHlr")]
    [InlineData("true", "True")]
    public void A_value_becomes_a_name_part(string canonical, string label) => Assert.Equal(label, RecipeNames.ValueLabel(canonical));

    [Theory]
    [InlineData("pos_fractoin", "pos_fraction", 1)]
    [InlineData("pos-fraction", "pos_fraction", 0)]
    [InlineData("K", "k", 0)]
    [InlineData("nms", "num", 2)]
    public void Edit_distance_counts_transpositions_once_and_ignores_case_and_dashes(string a, string b, int distance) =>
        Assert.Equal(distance, RecipeNames.Distance(a, b));

    [Fact]
    public void Numbers_print_culture_invariant_and_round_trip()
    {
        Assert.Equal(["0.1", "2.0", "1e-05", "0.0001", "-1.0"], new[] { 0.1, 2, 1e-5, 1e-4, -1 }.Select(RecipeValues.FormatNumber));
        Assert.True(RecipeValues.TryParseNumber("1e-05", out double tiny) && tiny == 1e-5);
        Assert.False(RecipeValues.TryParseNumber("0,5", out _));
        Assert.False(RecipeValues.TryParseNumber("1,000", out _));
    }

    [Fact]
    public void Every_rule_has_a_unique_stable_id_in_order()
    {
        // Retired ids leave gaps and are never reused.
        var ids = RecipeDiagnostics.All.Select(d => d.Id).ToList();
        var numbered = Enumerable.Range(1, ids.Count + RecipeDiagnostics.Retired.Count).Select(i => $"PISA{i:0000}");
        Assert.Equal(numbered.Except(RecipeDiagnostics.Retired), ids);
    }
}
