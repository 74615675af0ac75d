using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Imaging;

/// <summary>A vertical colour bar without text: the colormap's value 1 in the top row, 0 in the bottom row, linear between.</summary>
public static class ColorBar
{
    /// <summary>The bar's width for a picture of the given height (a sixteenth of it, at least 8 pixels).</summary>
    public static int WidthFor(int height) => Math.Max(8, height / 16);

    /// <summary>The pixels a bar adds on the right of a picture of the given height: the white gap before it and the bar.</summary>
    public static int AddedWidthFor(int height) => SideBySide.GapFor(height) + WidthFor(height);

    public static Image<Rgb24> Draw(int height, Colormap colormap, int? width = null)
    {
        if (height < 2) throw new ArgumentOutOfRangeException(nameof(height), "A colour bar needs at least 2 rows.");
        var image = new Image<Rgb24>(width ?? WidthFor(height), height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < height; y++)
            {
                var (r, g, b) = ColormapTable.Color(colormap, (float)(height - 1 - y) / (height - 1));
                rows.GetRowSpan(y).Fill(new Rgb24(r, g, b));
            }
        });
        return image;
    }
}
