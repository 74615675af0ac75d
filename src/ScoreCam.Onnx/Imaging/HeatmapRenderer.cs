using ScoreCam.Onnx.Kernels;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Imaging;

/// <summary>Draws a heatmap in colour over the original picture, at the picture's own size.</summary>
public static class HeatmapRenderer
{
    /// <summary>
    /// Blends <paramref name="heatmap"/> (values in [0, 1]) over <paramref name="original"/> inside
    /// <paramref name="region"/> (the part of the picture the model saw; all of it when null).
    /// </summary>
    public static Image<Rgb24> Overlay(Image<Rgb24> original, SaliencyMap heatmap, SourceRegion? region = null,
        Colormap colormap = Colormap.Jet, float opacity = 0.5f)
    {
        if (opacity is < 0f or > 1f) throw new ArgumentOutOfRangeException(nameof(opacity), "Opacity must be in [0, 1].");
        var r = region ?? new SourceRegion(original.Width, original.Height, 0, 0, original.Width, original.Height);
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
                    row[x] = new Rgb24(Blend(p.R, cr, opacity), Blend(p.G, cg, opacity), Blend(p.B, cb, opacity));
                }
            }
        });
        return result;
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

    private static byte Blend(byte under, byte over, float opacity) => (byte)(under + (over - under) * opacity + 0.5f);
}
