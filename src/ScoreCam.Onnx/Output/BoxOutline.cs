using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Output;

/// <summary>Outlines a box given in input pixels on the picture the input was made from (a yellow line edged in black), its caption above it.</summary>
internal static class BoxOutline
{
    private static readonly Rgb24 Line = new(255, 220, 0), Edge = new(0, 0, 0);

    /// <summary>Outlines <paramref name="labelled"/>'s box of <paramref name="input"/> on <paramref name="picture"/>, of which <paramref name="region"/> is the part the input covers (null: all of it).</summary>
    public static void Draw(Image<Rgb24> picture, LabelledBox labelled, ImageTensor input, SourceRegion? region)
    {
        DetectionBox box = labelled.Box;
        double sx = region is null ? (double)picture.Width / input.Width : (double)region.Width / input.Width;
        double sy = region is null ? (double)picture.Height / input.Height : (double)region.Height / input.Height;
        int ox = region?.X ?? 0, oy = region?.Y ?? 0;
        int x0 = (int)Math.Round(ox + box.X0 * sx), y0 = (int)Math.Round(oy + box.Y0 * sy);
        int x1 = (int)Math.Round(ox + box.X1 * sx) - 1, y1 = (int)Math.Round(oy + box.Y1 * sy) - 1;
        int thickness = Math.Max(1, Math.Min(picture.Width, picture.Height) / 150);
        for (int t = -1; t <= thickness; t++)
            Rectangle(picture, x0 - t, y0 - t, x1 + t, y1 + t, t < 0 || t == thickness ? Edge : Line);
        // The caption sits on the box's top edge, inside the picture.
        int scale = Math.Max(1, Math.Min(picture.Width, picture.Height) / 200);
        var (width, height) = CaptionText.Measure(labelled.Caption, scale);
        int top = y0 - thickness - height >= 0 ? y0 - thickness - height : Math.Max(0, y0);
        int left = Math.Max(0, Math.Min(x0 - thickness, picture.Width - width));
        CaptionText.Draw(picture, labelled.Caption, left, top, scale, Edge, Line);
    }

    private static void Rectangle(Image<Rgb24> picture, int x0, int y0, int x1, int y1, Rgb24 colour)
    {
        for (int x = x0; x <= x1; x++)
        {
            Set(picture, x, y0, colour);
            Set(picture, x, y1, colour);
        }
        for (int y = y0; y <= y1; y++)
        {
            Set(picture, x0, y, colour);
            Set(picture, x1, y, colour);
        }
    }

    private static void Set(Image<Rgb24> picture, int x, int y, Rgb24 colour)
    {
        if (x >= 0 && y >= 0 && x < picture.Width && y < picture.Height) picture[x, y] = colour;
    }
}
