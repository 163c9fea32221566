using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>What <c>pisa check</c> reports for folders, and input built to hurt a reader.</summary>
public class CheckerTests
{
    [Fact]
    public void The_shipped_folder_checks_clean()
    {
        CheckReport report = RecipeChecker.Check([TestRecipes.Folder]);
        // 7 files; pisa-sweep makes 4 pipelines, each other recipe 1: 6 + 4 = 10.
        Assert.Equal((7, 10, 0, 0), (report.Files, report.Pipelines, report.Errors, report.Warnings));
        Assert.Equal("checked 7 recipe files (10 pipelines): 0 errors, 0 warnings", report.Summary);
    }

    [Fact]
    public void The_box_coder_is_rcnn_unless_the_recipe_names_another()
    {
        Assert.Equal(BoxCoderKind.Rcnn, TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn")).BoxCoder);
        Assert.Equal(BoxCoderKind.Unit, TestRecipes.Valid(TestRecipes.LoadShipped("pisa-retinanet")).BoxCoder); // from its base
        Assert.Equal(BoxCoderKind.Unit, TestRecipes.Valid(TestRecipes.LoadShipped("faster-rcnn", "box_coder=unit")).BoxCoder);
        Assert.Equal(BoxCoderKind.Rcnn, TestRecipes.Valid(TestRecipes.LoadText("recipe: plain-retina\ndetector: single-stage\nloss: { cls: { type: focal } }\n")).BoxCoder);
    }

    [Fact]
    public void An_unknown_box_coder_is_a_located_error_naming_the_coders()
    {
        RecipeLoadResult result = TestRecipes.LoadText("recipe: my-coder\nbase: faster-rcnn\nbox_coder: rccn\n");
        DiagnosticInfo error = Assert.Single(TestRecipes.Errors(result));
        // "box_coder: rccn": the value starts at column 12.
        Assert.Equal((3, 12), (error.Span.Line, error.Span.Column));
        Assert.Contains("rcnn", error.Message);
        Assert.Contains("unit", error.Message);
    }

    [Fact]
    public void A_base_checked_through_two_recipes_reports_its_error_once()
    {
        string folder = Directory.CreateTempSubdirectory("pisa-check-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "root.yaml"), "recipe: root\ndetector: two-stage\nloss: { carl: { k: -1 } }\n");
            File.WriteAllText(Path.Combine(folder, "child.yaml"), "recipe: child\nbase: root\n");
            CheckReport report = RecipeChecker.Check([folder]);
            DiagnosticInfo error = Assert.Single(report.Diagnostics);
            // "loss: { carl: { k: -1 } }": the -1 starts at column 20.
            Assert.Equal((Path.Combine(folder, "root.yaml"), 3, 20), (error.Span.Path, error.Span.Line, error.Span.Column));
            Assert.Equal((2, 0), (report.Files, report.Pipelines));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_base_name_finds_a_yml_file_too()
    {
        var source = new InMemoryRecipeSource(new Dictionary<string, string>
        {
            ["/r/root.yml"] = "recipe: root\ndetector: two-stage\nloss: { carl: { k: 3 } }\n",
            ["/r/child.yaml"] = "recipe: child\nbase: root\n",
        });
        Recipe r = TestRecipes.Valid(new RecipeLoader(source).LoadFile("/r/child.yaml"));
        Assert.Equal((new ReweightSettings(3, 0.2), "root"), (r.Loss.Carl, r.BaseChain[1]));
    }

    [Fact]
    public void Deep_nesting_is_refused_with_a_located_error()
    {
        string yaml = "recipe: deep\ndetector: two-stage\ntrain: { lr_steps: " + new string('[', 5000) + new string(']', 5000) + " }\n";
        RecipeLoadResult result = TestRecipes.LoadText(yaml);
        Assert.Contains(result.Diagnostics, d => d.Id == "PISA0003" && d.Message.Contains("nest deeper") && d.Span.Line == 3);
    }

    [Fact]
    public void Aliases_that_multiply_stay_cheap_in_files_and_overrides()
    {
        // Ten levels of ten aliases each would be 10^10 scalars if expanded.
        string levels = string.Join("\n", Enumerable.Range(0, 10).Select(i => i == 0 ? "  l0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]" : $"  l{i}: &a{i} [" + string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10)) + "]"));
        RecipeLoadResult file = TestRecipes.LoadText("recipe: laughs\ndetector: two-stage\nlaughs:\n" + levels + "\ntrain: { lr_steps: *a9 }\n");
        Assert.Contains(file.Diagnostics, d => d.Id == "PISA0004" && d.Span.Line == 3);
        Assert.Contains(file.Diagnostics, d => d.Id == "PISA0005");

        string flow = "{" + string.Join(", ", Enumerable.Range(0, 10).Select(i => i == 0 ? "l0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]" : $"l{i}: &a{i} [" + string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10)) + "]")) + "}";
        RecipeLoadResult set = TestRecipes.LoadShipped("faster-rcnn", "train=" + flow);
        Assert.All(set.Diagnostics, d => Assert.Equal("--set train=" + flow, d.Span.Path));
        Assert.True(set.HasErrors);
    }

    [Fact]
    public void A_defined_alias_repeats_its_anchor_value()
    {
        Recipe r = TestRecipes.Valid(TestRecipes.LoadText("recipe: aliased\ndetector: two-stage\nassign:\n  pos_iou: &t 0.6\n  neg_iou: *t\n  min_pos_iou: *t\n"));
        Assert.Equal(new AssignSettings(0.6, 0.6, 0.6, false), r.Assign);
    }

    [Fact]
    public void A_located_error_carries_the_text_offsets_a_compiler_location_needs()
    {
        const string yaml = "recipe: offsets\ndetector: two-stage\nloss: { carl: { k: -1 } }\n";
        DiagnosticInfo error = TestRecipes.Errors(TestRecipes.LoadText(yaml)).Single();
        // Line 3 starts after "recipe: offsets\n" (16 chars) and "detector: two-stage\n" (20); -1 is 19 further on.
        Assert.Equal((16 + 20 + 19, 16 + 20 + 21), (error.Span.StartIndex, error.Span.EndIndex));
    }
}
