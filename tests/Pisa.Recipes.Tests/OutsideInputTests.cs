using System.Text;
using Pisa.Recipes;

namespace Pisa.Recipes.Tests;

/// <summary>Defects found by recipes that no one here wrote: each is an error (or hint) at the place to fix, in our words.</summary>
public sealed class OutsideInputTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "pisa-outside-" + Guid.NewGuid().ToString("N"));

    public OutsideInputTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, new UTF8Encoding(false).GetBytes(text));

    private static DiagnosticInfo SingleError(RecipeLoadResult result) => Assert.Single(TestRecipes.Errors(result));

    [Fact]
    public void Latin1_bytes_are_an_error_at_the_byte_not_a_silent_replacement_character()
    {
        // "Montréal" saved as Latin-1: é is the single byte 0xE9, which no UTF-8 sequence starts with; 18 characters precede it.
        byte[] latin1 = Encoding.Latin1.GetBytes("recipe: latin\ndetector: two-stage\ntrain:\n  data: data/Montréal\n");
        string path = Write("latin.yaml", latin1);
        DiagnosticInfo error = SingleError(new RecipeLoader().LoadFile(path));
        Assert.Equal(("PISA0025", 4, 19), (error.Id, error.Span.Line, error.Span.Column));
        Assert.Contains("0xE9", error.Message);
        Assert.Contains("UTF-8", error.Message);
        Assert.Equal(1, RecipeChecker.Check([path]).Errors);
    }

    [Fact]
    public void A_base_that_is_not_utf8_is_reported_in_the_base()
    {
        string parent = Write("latin-parent.yaml", Encoding.Latin1.GetBytes("recipe: latin-parent\ndetector: two-stage\ntrain: { data: café }\n"));
        string child = Write("child.yaml", "recipe: child\nbase: latin-parent\n");
        DiagnosticInfo error = SingleError(new RecipeLoader().LoadFile(child));
        Assert.Equal((parent, 3, 19), (error.Span.Path, error.Span.Line, error.Span.Column));
    }

    [Fact]
    public void Utf8_text_with_a_byte_order_mark_still_loads()
    {
        byte[] text = new UTF8Encoding(true).GetPreamble().Concat(Encoding.UTF8.GetBytes("recipe: bom\ndetector: two-stage\ntrain: { data: data/Montréal }\n")).ToArray();
        Recipe r = TestRecipes.Valid(new RecipeLoader().LoadFile(Write("bom.yaml", text)));
        Assert.Equal("data/Montréal", r.Train.Data);
    }

    [Fact]
    public void An_unknown_builtin_data_set_is_an_error_with_a_suggestion()
    {
        DiagnosticInfo error = SingleError(TestRecipes.LoadText("recipe: shape\nbase: faster-rcnn\ntrain: { data: builtin:shape }\n"));
        Assert.Equal(("PISA0007", 3, 16), (error.Id, error.Span.Line, error.Span.Column));
        Assert.Equal("'builtin:shape' is not a built-in data set; expected one of builtin:shapes; did you mean 'builtin:shapes'?", error.Message);
    }

    [Fact]
    public void A_comment_only_file_reports_a_line_it_has()
    {
        string path = Write("comments.yaml", "# one\n# two\n# three\n");
        DiagnosticInfo error = SingleError(new RecipeLoader().LoadFile(path));
        Assert.Equal(("PISA0025", 1, 1), (error.Id, error.Span.Line, error.Span.Column));
    }

    [Fact]
    public void An_error_at_the_end_of_the_file_points_at_its_last_line()
    {
        // The parser reports the unclosed '[' at the end of the stream, past the final line break: line 5 of a 4-line file.
        DiagnosticInfo error = SingleError(new RecipeLoader().LoadFile(Write("bracket.yaml", "recipe: bracket\ndetector: two-stage\ntrain:\n  lr_steps: [1, 2\n")));
        Assert.Equal(4, error.Span.Line);
    }

    [Fact]
    public void A_child_that_turns_single_stage_is_reported_at_its_detector_naming_the_parents_section()
    {
        Write("two-stage-parent.yaml", "recipe: two-stage-parent\ndetector: two-stage\nsample:\n  num: 256\n");
        string child = Write("single-child.yaml", "recipe: single-child\nbase: two-stage-parent\ndetector: single-stage\nloss: { cls: { type: focal } }\n");
        DiagnosticInfo error = SingleError(new RecipeLoader().LoadFile(child));
        Assert.Equal(("PISA0012", child, 3, 11), (error.Id, error.Span.Path, error.Span.Line, error.Span.Column));
        Assert.Contains("two-stage-parent.yaml at line 3", error.Message);
    }

    [Fact]
    public void A_two_stage_section_the_recipe_itself_writes_is_still_reported_where_it_is_written()
    {
        DiagnosticInfo error = SingleError(TestRecipes.LoadText("recipe: own\ndetector: single-stage\nloss: { cls: { type: focal } }\nsample: { num: 8 }\n"));
        Assert.Equal(("PISA0012", 4, 1), (error.Id, error.Span.Line, error.Span.Column));
    }

    [Theory]
    [InlineData("assign: { pos_iou_thr: 0.5 }", "did you mean 'pos_iou'? (our name for 'pos_iou_thr')")]
    [InlineData("assign: { neg_iou_thr: 0.4 }", "did you mean 'neg_iou'?")]
    [InlineData("assign: { min_pos_iou_thr: 0.4 }", "did you mean 'min_pos_iou'?")]
    [InlineData("pos_iou_thr: 0.5", "did you mean 'pos_iou'? (our name for 'pos_iou_thr') It belongs in 'assign'")]
    [InlineData("train: { learning_rate: 0.1 }", "did you mean 'lr'?")]
    [InlineData("compat: mmdetection", "did you mean 'mmdet'?")]
    [InlineData("train: { schedule: cos }", "did you mean 'cosine'?")]
    [InlineData("sample: { positives: { type: OHEMSampler } }", "did you mean 'ohem'?")]
    [InlineData("loss:\n  type: focal", "'type' belongs in 'loss.cls'")]
    [InlineData("loss.carl.k: 2", "a dotted path ('loss.carl.k') belongs to --set and variants: in a recipe, nest each part on its own line (loss: { carl: { k: ... } })")]
    [InlineData("loss:\n  carl.k: 2", "a dotted path ('loss.carl.k') belongs to --set and variants")]
    public void Hints_name_our_key_for_theirs(string yaml, string hint)
    {
        string message = string.Join("\n", TestRecipes.Errors(TestRecipes.LoadText("recipe: hint\ndetector: two-stage\n" + yaml + "\n")).Select(e => e.Message));
        Assert.Contains(hint, message);
    }

    [Theory]
    [InlineData("train:\n\tlr: 0.1\n", 4, "replace the tab with spaces")]
    [InlineData("train:\n  data: \"abc\n", 4, "a quoted value is not closed: add its closing quote")]
    [InlineData("train:\n  data: 'abc\n", 4, "a quoted value is not closed")]
    [InlineData("train: { lr: 0.1\n", 3, "a '{' is not closed before this point: add the '}'")]
    [InlineData("train:\n  lr_steps: [1, 2\n", 4, "a '[' is not closed before this point: add the ']'")]
    [InlineData("train: { data: a\u0000b }\n", 3, "this is not a text file: it holds the control character U+0000 at line 3, column 17")]
    public void Yaml_errors_come_in_our_words_with_the_fix_on_a_line_of_the_file(string yaml, int line, string words)
    {
        DiagnosticInfo error = SingleError(new RecipeLoader().LoadFile(Write("yaml.yaml", "recipe: yaml\ndetector: two-stage\n" + yaml)));
        Assert.Equal(("PISA0001", line), (error.Id, error.Span.Line));
        Assert.Contains(words, error.Message);
    }

    [Fact]
    public void A_binary_file_is_not_a_text_file()
    {
        // Random bytes that happen to be valid UTF-8 still hold control characters no text does.
        byte[] bytes = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00];
        DiagnosticInfo error = SingleError(new RecipeLoader().LoadFile(Write("a.out.yaml", bytes)));
        Assert.Equal(("PISA0001", 1, 1), (error.Id, error.Span.Line, error.Span.Column));
        Assert.Contains("not a text file", error.Message);
    }

    [Fact]
    public void A_very_long_value_is_shortened_in_the_message()
    {
        string value = new('x', 5000);
        DiagnosticInfo error = SingleError(TestRecipes.LoadText($"recipe: long\nbase: faster-rcnn\ncompat: {value}\n"));
        Assert.Contains("(5000 characters)", error.Message);
        Assert.True(error.Message.Length < 300, error.Message);
    }
}
