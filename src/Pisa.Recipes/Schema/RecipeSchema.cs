using System.Collections.Generic;
using System.Linq;

namespace Pisa.Recipes;

/// <summary>
/// The JSON Schema (draft-07) of recipes, generated from <see cref="RecipeKeys"/> so editors (the YAML language
/// server) complete and check the same keys, ranges and names as the validator. Checked in as
/// <c>schemas/recipe.schema.json</c>; a test keeps that file equal to <see cref="Generate"/>.
/// The schema can only approximate the rules that span keys (stage combinations, base chains): the validator has the last word.
/// </summary>
public static class RecipeSchema
{
    public static string Generate()
    {
        JsonObject root = new JsonObject()
            .Set("$schema", "http://json-schema.org/draft-07/schema#")
            .Set("title", "Pisa.Dsl recipe")
            .Set("description", RecipeKeys.Root.Doc + " Generated from the recipe model (RecipeSchema.Generate); do not edit.");
        AddSection(root, RecipeKeys.Root, topLevel: true);
        return JsonText.Write(root);
    }

    private static void AddSection(JsonObject schema, KeySpec section, bool topLevel = false)
    {
        schema.Set("type", section.Optional ? new List<object?> { "object", "null" } : "object");
        var properties = new JsonObject();
        foreach (KeySpec key in section.Children) properties.Set(key.Name, KeySchema(key));
        schema.Set("properties", properties);
        schema.Set("additionalProperties", false);
        // detector may come from a base, so only recipe is required of every file.
        if (topLevel) schema.Set("required", new List<object?> { "recipe" });
        if (TypeRestrictions(section) is { Count: > 0 } restrictions) schema.Set("allOf", restrictions);
    }

    /// <summary>For each group of type-specific options: when the type is written and is not theirs, they are not allowed.</summary>
    private static List<object?> TypeRestrictions(KeySpec section)
    {
        var rules = new List<object?>();
        foreach (var group in section.Children.Where(k => k.ForTypes is not null).GroupBy(k => string.Join(",", k.ForTypes!)))
        {
            var forTypes = group.First().ForTypes!.Cast<object?>().ToList();
            rules.Add(new JsonObject()
                .Set("if", new JsonObject()
                    .Set("required", new List<object?> { "type" })
                    .Set("properties", new JsonObject().Set("type", new JsonObject().Set("not", new JsonObject().Set("enum", forTypes)))))
                .Set("then", new JsonObject()
                    .Set("not", new JsonObject().Set("anyOf", group.Select(k => (object?)new JsonObject().Set("required", new List<object?> { k.Name })).ToList()))));
        }
        return rules;
    }

    private static JsonObject KeySchema(KeySpec key)
    {
        var schema = new JsonObject().Set("description", key.Doc);
        switch (key.Kind)
        {
            case KeyKind.Section:
                AddSection(schema, key);
                break;
            case KeyKind.Number:
            case KeyKind.Integer:
                schema.Set("type", key.Kind == KeyKind.Number ? "number" : "integer");
                if (key.Sentinel is double sentinel)
                    schema.Set("anyOf", new List<object?> { new JsonObject().Set("const", sentinel), AddRange(new JsonObject(), key) });
                else
                    AddRange(schema, key);
                break;
            case KeyKind.Boolean:
                schema.Set("type", "boolean");
                break;
            case KeyKind.Name:
                schema.Set("enum", key.Names.Cast<object?>().ToList());
                break;
            case KeyKind.Text:
                schema.Set("type", "string");
                if (key.Pattern is not null) schema.Set("pattern", key.Pattern);
                break;
            case KeyKind.IntegerList:
                schema.Set("type", "array");
                schema.Set("items", AddRange(new JsonObject().Set("type", "integer"), key));
                break;
            case KeyKind.Variants:
                schema.Set("type", "object");
                schema.Set("propertyNames", new JsonObject().Set("enum", RecipeKeys.Variables.Select(v => (object?)v.Path).ToList()));
                schema.Set("additionalProperties", new JsonObject()
                    .Set("type", "array")
                    .Set("minItems", 1)
                    .Set("items", new JsonObject().Set("type", new List<object?> { "number", "string", "boolean" })));
                break;
        }
        if (key.Default is not null) schema.Set("default", DefaultValue(key));
        return schema;
    }

    private static JsonObject AddRange(JsonObject schema, KeySpec key)
    {
        if (key.Min is double min) schema.Set(key.MinExclusive ? "exclusiveMinimum" : "minimum", min);
        if (key.Max is double max && max < int.MaxValue) schema.Set(key.MaxExclusive ? "exclusiveMaximum" : "maximum", max);
        return schema;
    }

    private static object? DefaultValue(KeySpec key) => key.Kind switch
    {
        KeyKind.Number => RecipeValues.TryParseNumber(key.Default!, out double d) ? d : null,
        KeyKind.Integer => RecipeValues.TryParseInteger(key.Default!, out long l) ? l : null,
        KeyKind.Boolean => key.Default == "true",
        KeyKind.IntegerList => key.Default!.Trim('[', ']').Split(new[] { ',' }, System.StringSplitOptions.RemoveEmptyEntries).Select(x => (object?)long.Parse(x.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList(),
        _ => key.Default,
    };
}
