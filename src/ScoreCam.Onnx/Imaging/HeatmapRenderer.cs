using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// Draws a heatmap in colour over the original picture: <see cref="Overlay"/> at the picture's own size,
/// <see cref="Render"/> at a readable size with an optional colour bar, <see cref="Panel"/> as
/// input | overlay | heatmap side by side.
/// </summary>
public static class HeatmapRenderer
{
    /// <summary>
    /// Blends <paramref name="heatmap"/> (values in [0, 1]) over <paramref name="original"/> inside
    /// <paramref name="region"/> (the part of the picture the model saw; all of it when null), at the picture's size.
    /// </summary>
    public static Image<Rgb24> Overlay(Image<Rgb24> original, SaliencyMap heatmap, SourceRegion? region = null,
        Colormap colormap = Colormap.Jet, float alpha = 0.5f)
    {
        if (!(alpha is >= 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(alpha), "Alpha must be in [0, 1].");
        var r = region ?? Whole(original);
        if (r.X < 0 || r.Y < 0 || r.Width <= 0 || r.Height <= 0 || r.X + r.Width > original.Width || r.Y + r.Height > original.Height)
            throw new ArgumentException($"The region {r.Width}x{r.Height} at ({r.X}, {r.Y}) does not lie inside the {original.Width}x{original.Height} picture.", nameof(region));
        var upsampler = new BilinearUpsampler(heatmap.Height, heatmap.Width, r.Height, r.Width);
        var values = new float[r.Width * r.Height];
        upsampler.Upsample(heatmap.Values, values, new float[upsampler.ScratchLength]);

        Image<Rgb24> result = original.Clone();
        result.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < r.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(r.Y + y).Slice(r.X, r.Width);
                for (int x = 0; x < r.Width; x++)
                {
                    var (cr, cg, cb) = ColormapTable.Color(colormap, values[y * r.Width + x]);
                    Rgb24 p = row[x];
                    row[x] = new Rgb24(Blend(p.R, cr, alpha), Blend(p.G, cg, alpha), Blend(p.B, cb, alpha));
                }
            }
        });
        return result;
    }

    /// <summary>
    /// The overlay at a readable size: the picture scaled up to <see cref="OverlayOptions.MinShortSide"/> (bicubic),
    /// the heatmap upsampled bilinearly to the scaled region, then blended; a colour bar on the right when asked.
    /// </summary>
    public static Image<Rgb24> Render(Image<Rgb24> original, SaliencyMap heatmap, SourceRegion? region = null, OverlayOptions? options = null)
    {
        options ??= new OverlayOptions();
        options.Validate();
        using Image<Rgb24> picture = Enlarge(original, options.MinShortSide);
        SourceRegion shown = DisplaySize.Scale(region ?? Whole(original), picture.Width, picture.Height);
        Image<Rgb24> overlay = Overlay(picture, heatmap, shown, options.Colormap, options.Alpha);
        if (!options.ColorBar) return overlay;
        using (overlay)
        using (Image<Rgb24> bar = ColorBar.Draw(overlay.Height, options.Colormap))
            return SideBySide.Join(new[] { overlay, bar });
    }

    /// <summary>
    /// Input | overlay | heatmap (the overlay at alpha 1) side by side at the readable size of <see cref="Render"/>,
    /// with white gaps and no text (labels belong to whatever shows the panel), then the colour bar when asked.
    /// </summary>
    public static Image<Rgb24> Panel(Image<Rgb24> original, SaliencyMap heatmap, SourceRegion? region = null, OverlayOptions? options = null)
    {
        options ??= new OverlayOptions();
        options.Validate();
        using Image<Rgb24> picture = Enlarge(original, options.MinShortSide);
        SourceRegion shown = DisplaySize.Scale(region ?? Whole(original), picture.Width, picture.Height);
        using Image<Rgb24> overlay = Overlay(picture, heatmap, shown, options.Colormap, options.Alpha);
        using Image<Rgb24> heat = Overlay(picture, heatmap, shown, options.Colormap, 1f);
        using Image<Rgb24>? bar = options.ColorBar ? ColorBar.Draw(picture.Height, options.Colormap) : null;
        return SideBySide.Join(bar is null ? new[] { picture, overlay, heat } : new[] { picture, overlay, heat, bar });
    }

    /// <summary>
    /// A copy of the picture at the size <see cref="Render"/> draws it: scaled up (bicubic) until its short side is
    /// <paramref name="minShortSide"/> when shorter, else as it is.
    /// </summary>
    public static Image<Rgb24> Enlarge(Image<Rgb24> picture, int minShortSide = OverlayOptions.DefaultMinShortSide)
    {
        OverlayOptions.ValidateSize(minShortSide);
        return DisplaySize.Enlarge(picture, minShortSide, KnownResamplers.Bicubic);
    }

    /// <summary>The heatmap alone in colour, at its own size.</summary>
    public static Image<Rgb24> Colorize(SaliencyMap heatmap, Colormap colormap = Colormap.Jet)
    {
        var image = new Image<Rgb24>(heatmap.Width, heatmap.Height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < heatmap.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < heatmap.Width; x++)
                {
                    var (cr, cg, cb) = ColormapTable.Color(colormap, heatmap[x, y]);
                    row[x] = new Rgb24(cr, cg, cb);
                }
            }
        });
        return image;
    }

    /// <summary>Saves as PNG without ever leaving a half-written file.</summary>
    public static void SavePng(Image image, string path) => AtomicFile.Write(path, stream => image.SaveAsPng(stream));

    /// <summary>The picture as PNG bytes (for embedding, e.g. in a data: URI).</summary>
    public static byte[] EncodePng(Image image)
    {
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static SourceRegion Whole(Image image) => new(image.Width, image.Height, 0, 0, image.Width, image.Height);

    private static byte Blend(byte under, byte over, float alpha) => (byte)(under + (over - under) * alpha + 0.5f);
}
