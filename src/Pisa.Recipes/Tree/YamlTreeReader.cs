using System;
using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Pisa.Recipes;

/// <summary>
/// Reads YAML text into a located <see cref="RecipeNode"/> tree. It walks YamlDotNet's event stream rather than its
/// representation model, because the model resolves aliases and drops duplicate keys' positions, while every event
/// keeps its own line and column: duplicate keys, aliases, tags and merge keys get located errors here.
/// </summary>
public static class YamlTreeReader
{
    /// <summary>Deeper nesting than any recipe needs is refused, so hostile input cannot exhaust the stack.</summary>
    private const int MaxDepth = 32;

    private static readonly Regex LocationPrefix = new(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ", RegexOptions.CultureInvariant);

    /// <summary>Reads one YAML document. Returns null with at least one error when the text is not a usable document.</summary>
    public static RecipeNode? Read(string text, string path, List<DiagnosticInfo> diagnostics)
    {
        if (FirstControlCharacter(text) is int at)
        {
            SourceSpan where = At(text, path, at);
            diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.YamlSyntax, where,
                $"this is not a text file: it holds the control character U+{(int)text[at]:X4} at line {where.Line}, column {where.Column} (a binary file, or text saved in another encoding); a recipe is UTF-8 YAML text"));
            return null;
        }
        var reader = new Reader(path, diagnostics);
        try
        {
            return reader.ReadDocument(new Parser(new StringReader(text)));
        }
        catch (YamlException ex)
        {
            SourceSpan span = ex.Message.IndexOf("tab", StringComparison.Ordinal) >= 0 && FirstTabIndentedLine(text) is int line
                ? new SourceSpan(path, line, 1, line, 1) { StartIndex = IndexOfLine(text, line), EndIndex = IndexOfLine(text, line) } // YamlDotNet points at the start of the enclosing mapping; the tab is what to fix.
                : ClampToText(reader.Span(ex.Start, ex.End), text);
            diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.YamlSyntax, span, OwnWords(CleanMessage(ex))));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 16's scanner throws this on some malformed flow collections (e.g. "a: [1, 2\nb: 3").
            diagnostics.Add(RecipeDiagnostics.Create(RecipeDiagnostics.YamlSyntax, ClampToText(reader.LastPosition, text),
                "malformed YAML after this point (check brackets, quotes and indentation)"));
            return null;
        }
    }

    /// <summary>The parser's message in our words, with the fix; a message we have no words for keeps the parser's, with the usual hint.</summary>
    private static string OwnWords(string message)
    {
        if (message.IndexOf("invalid tab", StringComparison.Ordinal) >= 0)
            return "a tab indents this line; YAML indents with spaces only: replace the tab with spaces";
        if (message.IndexOf("quoted scalar", StringComparison.Ordinal) >= 0)
            return "a quoted value is not closed: add its closing quote (\" or ') on the same value";
        if (message.IndexOf("flow mapping", StringComparison.Ordinal) >= 0)
            return "a '{' is not closed before this point: add the '}' (and a ',' between entries)";
        if (message.IndexOf("flow sequence", StringComparison.Ordinal) >= 0)
            return "a '[' is not closed before this point: add the ']' (and a ',' between items)";
        return $"malformed YAML here ({message}): check brackets, quotes and indentation";
    }

    /// <summary>The index of the first character no YAML text holds (C0 controls other than tab and line breaks, DEL), or null.</summary>
    private static int? FirstControlCharacter(string text)
    {
        for (int i = 0; i < text.Length; i++)
            if ((text[i] < ' ' && text[i] is not ('\t' or '\n' or '\r')) || text[i] == '\u007F') return i;
        return null;
    }

    /// <summary>The 1-based line and column of a character index.</summary>
    internal static SourceSpan At(string text, string path, int index)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < index && i < text.Length; i++)
            if (text[i] == '\n') (line, lineStart) = (line + 1, i + 1);
        int column = index - lineStart + 1;
        return new SourceSpan(path, line, column, line, column) { StartIndex = index, EndIndex = index };
    }

    /// <summary>
    /// A position past the end of the text (the parser's end of stream, after the last line break) moves to the end of the
    /// last line, so a 3-line file never reports line 4.
    /// </summary>
    private static SourceSpan ClampToText(SourceSpan span, string text)
    {
        int end = text.TrimEnd('\n', '\r', ' ', '\t').Length;
        SourceSpan last = At(text, span.Path, end);
        if (span.Line < last.Line || (span.Line == last.Line && span.Column <= last.Column)) return span;
        return last;
    }

    private static int IndexOfLine(string text, int line)
    {
        int index = 0;
        for (int i = 1; i < line && index >= 0; i++) index = text.IndexOf('\n', index) + 1;
        return Math.Max(0, index);
    }

    private static int? FirstTabIndentedLine(string text)
    {
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string indent = lines[i].Substring(0, lines[i].Length - lines[i].TrimStart(' ', '\t').Length);
            if (indent.IndexOf('\t') >= 0) return i + 1;
        }
        return null;
    }

    private static string CleanMessage(YamlException ex)
    {
        string message = LocationPrefix.Replace(ex.Message, "");
        return message.Length > 0 && message.EndsWith(".", StringComparison.Ordinal) ? message.Substring(0, message.Length - 1) : message;
    }

    /// <summary><c>tag:yaml.org,2002:str</c> → <c>!!str</c>, as it was written.</summary>
    private static string ShortTag(string tag) =>
        tag.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal) ? "!!" + tag.Substring("tag:yaml.org,2002:".Length) : tag;

    private sealed class Reader(string path, List<DiagnosticInfo> diagnostics)
    {
        private readonly Dictionary<string, RecipeNode> _anchors = new(StringComparer.Ordinal);

        /// <summary>The start of the last event read: where to point when the parser fails without a position.</summary>
        public SourceSpan LastPosition { get; private set; } = new(path, 1, 1, 1, 1);

        public SourceSpan Span(Mark start, Mark end) =>
            new(path, ToInt(start.Line), ToInt(start.Column), ToInt(end.Line), ToInt(end.Column)) { StartIndex = (int)Math.Max(0, start.Index), EndIndex = (int)Math.Max(0, end.Index) };

        private static int ToInt(long position) => (int)Math.Min(int.MaxValue, Math.Max(1, position));

        private SourceSpan Span(ParsingEvent e) => Span(e.Start, e.End);

        private void Error(DiagnosticDescriptorInfo descriptor, SourceSpan span, params string[] arguments) =>
            diagnostics.Add(RecipeDiagnostics.Create(descriptor, span, arguments));

        public RecipeNode? ReadDocument(IParser parser)
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                // The whole file is at fault, so point at its start (the end of stream lies past the last line).
                Error(RecipeDiagnostics.UnreadableFile, new SourceSpan(path, 1, 1, 1, 1), "the file holds no recipe (it is empty or only comments)");
                return null;
            }
            parser.Consume<DocumentStart>();
            RecipeNode root = ReadNode(parser, 0);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                Error(RecipeDiagnostics.UnsupportedYaml, Span(second), "a recipe file holds one YAML document; this is a second one ('---')");
                return null;
            }
            return root;
        }

        private RecipeNode ReadNode(IParser parser, int depth)
        {
            ParsingEvent current = parser.Current ?? throw new YamlException("unexpected end of the YAML stream");
            LastPosition = Span(current);
            if (depth > MaxDepth)
            {
                Error(RecipeDiagnostics.UnsupportedYaml, Span(current), $"values nest deeper than {MaxDepth} levels");
                parser.SkipThisAndNestedEvents();
                return new ScalarNode("", false, Span(current));
            }
            RecipeNode node = current switch
            {
                AnchorAlias alias => ReadAlias(parser, alias),
                Scalar scalar => ReadScalar(parser, scalar),
                SequenceStart start => ReadSequence(parser, start, depth),
                MappingStart start => ReadMapping(parser, start, depth),
                _ => throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}"),
            };
            if (current is NodeEvent { Anchor.IsEmpty: false } anchored && current is not AnchorAlias)
                _anchors[anchored.Anchor.Value] = node;
            return node;
        }

        private RecipeNode ReadAlias(IParser parser, AnchorAlias alias)
        {
            parser.MoveNext();
            if (_anchors.TryGetValue(alias.Value.Value, out RecipeNode? target)) return target;
            Error(RecipeDiagnostics.UnsupportedYaml, Span(alias), $"alias '*{alias.Value.Value}' refers to no anchor defined before it (an anchor cannot contain its own alias)");
            return new ScalarNode("", false, Span(alias));
        }

        private ScalarNode ReadScalar(IParser parser, Scalar scalar)
        {
            parser.MoveNext();
            CheckNoTag(scalar);
            return new ScalarNode(scalar.Value, scalar.Style != ScalarStyle.Plain, Span(scalar));
        }

        private ListNode ReadSequence(IParser parser, SequenceStart start, int depth)
        {
            CheckNoTag(start);
            parser.MoveNext();
            var items = new List<RecipeNode>();
            while (!parser.Accept<SequenceEnd>(out _)) items.Add(ReadNode(parser, depth + 1));
            var end = parser.Consume<SequenceEnd>();
            return new ListNode(items.ToEquatableArray(), Span(start.Start, end.End));
        }

        private MapNode ReadMapping(IParser parser, MappingStart start, int depth)
        {
            CheckNoTag(start);
            parser.MoveNext();
            var entries = new List<MapEntry>();
            var seen = new Dictionary<string, SourceSpan>(StringComparer.Ordinal);
            while (!parser.Accept<MappingEnd>(out _))
            {
                RecipeNode key = ReadNode(parser, depth + 1);
                RecipeNode value = ReadNode(parser, depth + 1);
                if (key is not ScalarNode { IsNull: false } name)
                    Error(RecipeDiagnostics.UnsupportedYaml, key.Span, "a key must be a plain name, not a list, a mapping or nothing");
                else if (name.Text == "<<" && !name.Quoted)
                    Error(RecipeDiagnostics.UnsupportedYaml, key.Span, "merge keys ('<<') are not supported: share settings with base: instead");
                else if (seen.TryGetValue(name.Text, out SourceSpan first))
                    Error(RecipeDiagnostics.DuplicateKey, key.Span, name.Text, first.Line.ToString(System.Globalization.CultureInfo.InvariantCulture));
                else
                {
                    seen.Add(name.Text, key.Span);
                    entries.Add(new MapEntry(name.Text, key.Span, value));
                }
            }
            var end = parser.Consume<MappingEnd>();
            return new MapNode(entries.ToEquatableArray(), Span(start.Start, end.End));
        }

        private void CheckNoTag(NodeEvent node)
        {
            if (!node.Tag.IsEmpty)
                Error(RecipeDiagnostics.UnsupportedYaml, Span(node), $"YAML tags ('{ShortTag(node.Tag.Value)}') are not supported: quote a value to make it a string");
        }
    }
}
