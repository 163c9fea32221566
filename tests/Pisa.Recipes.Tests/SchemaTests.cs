using System.Text.Json.Nodes;
using Json.Schema;
using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>schemas/recipe.schema.json is the generated schema, and it accepts what the validator accepts (as far as a schema can).</summary>
public class SchemaTests
{
    private static string SchemaPath => RepoPaths.InRoot("schemas", "recipe.schema.json");

    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(SchemaPath)));

    [Fact]
    public void The_checked_in_schema_is_the_generated_one()
    {
        string generated = RecipeSchema.Generate();
        if (Environment.GetEnvironmentVariable("PISA_ACCEPT_SNAPSHOTS") is "1" or "true") File.WriteAllText(SchemaPath, generated);
        Assert.True(File.ReadAllText(SchemaPath) == generated,
            "schemas/recipe.schema.json differs from RecipeSchema.Generate(); regenerate it with PISA_ACCEPT_SNAPSHOTS=1 dotnet test tests/Pisa.Recipes.Tests");
    }

    [Theory]
    [MemberData(nameof(TestRecipes.Shipped), MemberType = typeof(TestRecipes))]
    public void Every_shipped_recipe_validates_against_the_schema(string name)
    {
        EvaluationResults results = Evaluate(File.ReadAllText(TestRecipes.PathOf(name)));
        Assert.True(results.IsValid, Errors(results));
    }

    [Theory]
    [InlineData("recipe: x\nsample: { pos_fraction: 1.5 }\n", "pos_fraction above 1")]
    [InlineData("recipe: x\nsample: { num: 0 }\n", "num below 1")]
    [InlineData("recipe: x\nsample: { pos_fractoin: 0.25 }\n", "a misspelt key")]
    [InlineData("recipe: x\nsample: { negatives: { type: random, num_bins: 3 } }\n", "an option of another sampler type")]
    [InlineData("recipe: x\nsample: { neg_pos_ub: -2 }\n", "a negative cap other than -1")]
    [InlineData("recipe: Bad_Name\n", "a name that is not kebab-case")]
    [InlineData("recipe: x\nvariants: { loss.carl.kk: [1] }\n", "an unknown variant key")]
    [InlineData("detector: two-stage\n", "no recipe name")]
    public void The_schema_rejects(string yaml, string what)
    {
        Assert.False(Evaluate(yaml).IsValid, $"the schema accepted {what}");
    }

    [Fact]
    public void The_schema_accepts_a_sentinel_and_a_null_stage()
    {
        EvaluationResults results = Evaluate("recipe: x\nsample: { neg_pos_ub: -1, negatives: { type: iou_balanced, floor_thr: -1 } }\nloss: { carl: null }\n");
        Assert.True(results.IsValid, Errors(results));
    }

    private static EvaluationResults Evaluate(string yaml)
    {
        var diagnostics = new List<DiagnosticInfo>();
        RecipeNode tree = YamlTreeReader.Read(yaml, "schema-test.yaml", diagnostics)!;
        Assert.Empty(diagnostics);
        return Schema.Value.Evaluate(ToJson(tree), new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    /// <summary>A YAML tree as the YAML language server sees it: plain scalars typed by YAML's core schema, quoted ones strings.</summary>
    private static JsonNode? ToJson(RecipeNode node) => node switch
    {
        MapNode map => new JsonObject(map.Entries.Select(e => KeyValuePair.Create(e.Key, ToJson(e.Value)))),
        ListNode list => new JsonArray(list.Items.Select(ToJson).ToArray()),
        ScalarNode { Quoted: true } s => JsonValue.Create(s.Text),
        ScalarNode { IsNull: true } => null,
        ScalarNode s when RecipeValues.TryParseBoolean(s.Text, out bool b) => JsonValue.Create(b),
        ScalarNode s when RecipeValues.TryParseInteger(s.Text, out long l) => JsonValue.Create(l),
        ScalarNode s when RecipeValues.TryParseNumber(s.Text, out double d) => JsonValue.Create(d),
        ScalarNode s => JsonValue.Create(s.Text),
        _ => throw new ArgumentException(node.GetType().Name),
    };

    private static string Errors(EvaluationResults results) =>
        string.Join("\n", results.Details.Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
}
