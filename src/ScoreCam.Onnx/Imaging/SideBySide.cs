using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ScoreCam.Onnx.Imaging;

/// <summary>Pictures of one height placed left to right with white gaps between them.</summary>
internal static class SideBySide
{
    public static readonly Rgb24 Background = new(255, 255, 255);

    /// <summary>The gap between pictures of the given height (a 48th of it, at least 4 pixels).</summary>
    public static int GapFor(int height) => Math.Max(4, height / 48);

    public static Image<Rgb24> Join(IReadOnlyList<Image<Rgb24>> pictures)
    {
        int height = pictures[0].Height, gap = GapFor(height);
        if (pictures.Any(p => p.Height != height)) throw new ArgumentException("Pictures placed side by side must have one height.", nameof(pictures));
        var result = new Image<Rgb24>(pictures.Sum(p => p.Width) + gap * (pictures.Count - 1), height, Background);
        result.Mutate(c =>
        {
            int x = 0;
            foreach (Image<Rgb24> p in pictures)
            {
                c.DrawImage(p, new Point(x, 0), 1f);
                x += p.Width + gap;
            }
        });
        return result;
    }
}
