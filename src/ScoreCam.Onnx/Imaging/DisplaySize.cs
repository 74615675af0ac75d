using ScoreCam.Onnx.Core;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace ScoreCam.Onnx.Imaging;

/// <summary>The size a picture is shown at: small pictures scaled up to a readable short side, large ones kept.</summary>
internal static class DisplaySize
{
    public static (int Width, int Height) For(int width, int height, int minShortSide)
    {
        int shortSide = Math.Min(width, height);
        if (shortSide >= minShortSide) return (width, height);
        double factor = (double)minShortSide / shortSide;
        return ((int)Math.Round(width * factor), (int)Math.Round(height * factor));
    }

    /// <summary>A copy of <paramref name="image"/> at its display size.</summary>
    public static Image<Rgb24> Enlarge(Image<Rgb24> image, int minShortSide, IResampler resampler)
    {
        var (width, height) = For(image.Width, image.Height, minShortSide);
        return width == image.Width && height == image.Height ? image.Clone() : image.Clone(c => c.Resize(width, height, resampler));
    }

    /// <summary>The same rectangle in a copy of its picture resized to <paramref name="width"/> × <paramref name="height"/>.</summary>
    public static SourceRegion Scale(SourceRegion region, int width, int height)
    {
        double fx = (double)width / region.OriginalWidth, fy = (double)height / region.OriginalHeight;
        int x0 = (int)Math.Round(region.X * fx), y0 = (int)Math.Round(region.Y * fy);
        int x1 = (int)Math.Round((region.X + region.Width) * fx), y1 = (int)Math.Round((region.Y + region.Height) * fy);
        return new SourceRegion(width, height, x0, y0, Math.Max(1, x1 - x0), Math.Max(1, y1 - y0));
    }
}
