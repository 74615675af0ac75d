using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// Writes a short caption (a detection's label) in a built-in 5×7 pixel font, upper case, on a filled background, so
/// that pictures need no font files. Characters it lacks are drawn as '?'.
/// </summary>
internal static class CaptionText
{
    private const int GlyphWidth = 5, GlyphHeight = 7;

    /// <summary>35 bits a glyph: 7 rows of 5, the top row's leftmost pixel the highest bit.</summary>
    private static readonly Dictionary<char, long> Glyphs = new()
    {
        ['A'] = 0x3A31FC631,
        ['B'] = 0x7A31F463E,
        ['C'] = 0x3A308422E,
        ['D'] = 0x7A318C63E,
        ['E'] = 0x7E10F421F,
        ['F'] = 0x7E10F4210,
        ['G'] = 0x3A30BC62F,
        ['H'] = 0x4631FC631,
        ['I'] = 0x38842108E,
        ['J'] = 0x1C4210A4C,
        ['K'] = 0x4654C5251,
        ['L'] = 0x42108421F,
        ['M'] = 0x4775AC631,
        ['N'] = 0x4639ACE31,
        ['O'] = 0x3A318C62E,
        ['P'] = 0x7A31F4210,
        ['Q'] = 0x3A318D64D,
        ['R'] = 0x7A31F5251,
        ['S'] = 0x3E107043E,
        ['T'] = 0x7C8421084,
        ['U'] = 0x46318C62E,
        ['V'] = 0x46318C544,
        ['W'] = 0x4631AD6AA,
        ['X'] = 0x462A22A31,
        ['Y'] = 0x462A21084,
        ['Z'] = 0x7C222221F,
        ['0'] = 0x3A33AE62E,
        ['1'] = 0x11842108E,
        ['2'] = 0x3A211111F,
        ['3'] = 0x7C441062E,
        ['4'] = 0x08CA97C42,
        ['5'] = 0x7E1E0862E,
        ['6'] = 0x1910F462E,
        ['7'] = 0x7C2222108,
        ['8'] = 0x3A317462E,
        ['9'] = 0x3A317844C,
        [' '] = 0x000000000,
        ['.'] = 0x00000018C,
        [','] = 0x000003088,
        ['-'] = 0x0000F8000,
        [':'] = 0x018C03180,
        ['('] = 0x088842082,
        [')'] = 0x208210888,
        ['_'] = 0x00000001F,
        ['/'] = 0x002222200,
        ['?'] = 0x3A2111004,
    };

    /// <summary>The caption's size in pixels at <paramref name="scale"/> (one pixel of padding around).</summary>
    public static (int Width, int Height) Measure(string text, int scale) => ((text.Length * (GlyphWidth + 1) + 1) * scale, (GlyphHeight + 2) * scale);

    /// <summary>Draws <paramref name="text"/> with its top left corner at (<paramref name="x"/>, <paramref name="y"/>), clipped to the picture.</summary>
    public static void Draw(Image<Rgb24> picture, string text, int x, int y, int scale, Rgb24 ink, Rgb24 background)
    {
        var (width, height) = Measure(text, scale);
        for (int py = y; py < y + height; py++)
            for (int px = x; px < x + width; px++)
                Set(picture, px, py, background);
        for (int i = 0; i < text.Length; i++)
        {
            long glyph = Glyphs.TryGetValue(char.ToUpperInvariant(text[i]), out long g) ? g : Glyphs['?'];
            int left = x + (1 + i * (GlyphWidth + 1)) * scale, top = y + scale;
            for (int row = 0; row < GlyphHeight; row++)
                for (int col = 0; col < GlyphWidth; col++)
                    if ((glyph >> (GlyphWidth * GlyphHeight - 1 - (row * GlyphWidth + col)) & 1) != 0)
                        for (int dy = 0; dy < scale; dy++)
                            for (int dx = 0; dx < scale; dx++)
                                Set(picture, left + col * scale + dx, top + row * scale + dy, ink);
        }
    }

    private static void Set(Image<Rgb24> picture, int x, int y, Rgb24 colour)
    {
        if (x >= 0 && y >= 0 && x < picture.Width && y < picture.Height) picture[x, y] = colour;
    }
}
