using System;
using System.IO;
using System.Text;

namespace Pisa.Recipes;

/// <summary>Recipe bytes that are not UTF-8: located at the first bad byte, so the loader reports it there.</summary>
public sealed class InvalidRecipeTextException(SourceSpan span, byte value)
    : IOException($"byte 0x{value:X2} at line {span.Line}, column {span.Column} is not UTF-8")
{
    public SourceSpan Span { get; } = span;

    public byte Value { get; } = value;
}

/// <summary>Decodes recipe files as strict UTF-8 (a byte-order mark is allowed): never a silent U+FFFD.</summary>
public static class RecipeText
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of <paramref name="bytes"/>; throws <see cref="InvalidRecipeTextException"/> at the first byte that is not UTF-8.</summary>
    public static string Decode(byte[] bytes, string path)
    {
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        int bad = FirstInvalidByte(bytes, start);
        if (bad < 0) return Strict.GetString(bytes, start, bytes.Length - start);
        string before = Strict.GetString(bytes, start, bad - start);
        throw new InvalidRecipeTextException(YamlTreeReader.At(before, path, before.Length), bytes[bad]);
    }

    /// <summary>The index of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629), or -1.</summary>
    private static int FirstInvalidByte(byte[] b, int start)
    {
        int i = start;
        while (i < b.Length)
        {
            byte lead = b[i];
            int length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
            if (length == 0) return i;
            for (int k = 1; k < length; k++)
            {
                if (i + k >= b.Length || (b[i + k] & 0xC0) != 0x80) return i;
            }
            // Overlong three- and four-byte forms, UTF-16 surrogates and code points above U+10FFFF.
            if ((lead == 0xE0 && b[i + 1] < 0xA0) || (lead == 0xED && b[i + 1] >= 0xA0) || (lead == 0xF0 && b[i + 1] < 0x90) || (lead == 0xF4 && b[i + 1] >= 0x90))
                return i;
            i += length;
        }
        return -1;
    }
}
