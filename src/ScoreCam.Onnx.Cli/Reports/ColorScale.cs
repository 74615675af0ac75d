using System.Globalization;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;

namespace ScoreCam.Onnx.Cli.Reports;

/// <summary>
/// The values at the top, middle (when it has one) and bottom of the colour bar on a picture's right edge, and the
/// share of the picture's width that the bar and its gap take (the boxes are drawn over the rest).
/// </summary>
internal sealed record ColorScale(string Top, string? Middle, string Bottom, double BarFraction)
{
    /// <summary>A heatmap's bar: the display map is min-max normalized, so 1 at the top and 0 at the bottom.</summary>
    public static ColorScale ForHeatmap(byte[] png) => Of(png, "1", null, "0");

    /// <summary>
    /// An attribution picture's bar, in the attribution's own values: the magnitude view runs from 0 to max |a|; the
    /// signed view from −m to +m, m = max over pixels of |Σ_c a|. Null for the RGB view, which has no bar.
    /// </summary>
    public static ColorScale? ForAttribution(byte[] png, Attribution a, AttributionView view)
    {
        switch (view)
        {
            case AttributionView.Magnitude:
                return Of(png, Number(a.Values.Max(Math.Abs)), null, "0");
            case AttributionView.Signed:
                var sum = new float[a.Height * a.Width];
                for (int c = 0; c < a.Channels; c++)
                {
                    ReadOnlySpan<float> plane = a.Plane(c);
                    for (int i = 0; i < sum.Length; i++) sum[i] += plane[i];
                }
                string m = Number(sum.Max(Math.Abs));
                return Of(png, "+" + m, "0", "−" + m);
            default:
                return null;
        }
    }

    private static ColorScale Of(byte[] png, string top, string? middle, string bottom)
    {
        IImageInfo info = Image.Identify(png);
        return new ColorScale(top, middle, bottom, (double)ColorBar.AddedWidthFor(info.Height) / info.Width);
    }

    private static string Number(float value) => value.ToString("G3", CultureInfo.InvariantCulture);
}
