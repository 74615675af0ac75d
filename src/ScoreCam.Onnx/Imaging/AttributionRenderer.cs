using ScoreCam.Onnx.Core;
using System.Numerics.Tensors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// Pictures of pixel-space attributions (vanilla gradient, Guided Backpropagation, SmoothGrad, Integrated Gradients):
/// C×H×W values in the model's input channel order, drawn the way their papers draw them (<see cref="AttributionView"/>),
/// scaled up without smoothing so that every input pixel stays visible.
/// </summary>
public static class AttributionRenderer
{
    /// <summary><see cref="AttributionView.Magnitude"/> as values in [0, 1] (all zeros for a zero attribution).</summary>
    public static SaliencyMap Magnitude(ReadOnlySpan<float> attribution, int channels, int height, int width)
    {
        Check(attribution, channels, height, width);
        int plane = height * width;
        var m = new float[plane];
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> channel = attribution.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) m[i] = Math.Max(m[i], Math.Abs(channel[i])); // M_ij = max_c |w_h(i,j,c)|
        }
        Normalize(m);
        return new SaliencyMap(width, height, m);
    }

    /// <summary><see cref="AttributionView.Signed"/> as values in [0, 1]: 0.5 + 0.5 · sum_c a / max |sum_c a| (all 0.5 for a zero attribution).</summary>
    public static SaliencyMap Signed(ReadOnlySpan<float> attribution, int channels, int height, int width)
    {
        Check(attribution, channels, height, width);
        int plane = height * width;
        var s = new float[plane];
        for (int c = 0; c < channels; c++) TensorPrimitives.Add(s, attribution.Slice(c * plane, plane), s);
        CentreOnHalf(s);
        return new SaliencyMap(width, height, s);
    }

    /// <summary>
    /// The attribution drawn in <paramref name="view"/>, scaled up (nearest neighbour) until its short side is at least
    /// <paramref name="minShortSide"/> pixels (0 keeps the input size). <paramref name="bgr"/>: the channels are in
    /// blue-green-red order (as the model's input); <paramref name="colorBar"/> appends the view's colour scale
    /// (not for <see cref="AttributionView.Rgb"/>, which has none).
    /// </summary>
    public static Image<Rgb24> Render(ReadOnlySpan<float> attribution, int channels, int height, int width, AttributionView view,
        int minShortSide = OverlayOptions.DefaultMinShortSide, bool colorBar = false, bool bgr = false)
    {
        OverlayOptions.ValidateSize(minShortSide);
        if (colorBar && view == AttributionView.Rgb)
            throw new ArgumentException("The RGB view of an attribution has no colour scale to draw a bar for.", nameof(colorBar));
        using Image<Rgb24> small = view switch
        {
            AttributionView.Magnitude => HeatmapRenderer.Colorize(Magnitude(attribution, channels, height, width), Colormap.Grey),
            AttributionView.Signed => HeatmapRenderer.Colorize(Signed(attribution, channels, height, width), Colormap.BlueWhiteRed),
            AttributionView.Rgb => Rgb(attribution, channels, height, width, bgr),
            _ => throw new ArgumentOutOfRangeException(nameof(view), view, "Unknown attribution view."),
        };
        Image<Rgb24> picture = DisplaySize.Enlarge(small, minShortSide, KnownResamplers.NearestNeighbor);
        if (!colorBar) return picture;
        using (picture)
        using (Image<Rgb24> bar = ColorBar.Draw(picture.Height, view == AttributionView.Magnitude ? Colormap.Grey : Colormap.BlueWhiteRed))
            return SideBySide.Join(new[] { picture, bar });
    }

    private static Image<Rgb24> Rgb(ReadOnlySpan<float> attribution, int channels, int height, int width, bool bgr)
    {
        Check(attribution, channels, height, width);
        if (channels is not (1 or 3)) throw new ArgumentException($"The RGB view needs 1 or 3 channels; this attribution has {channels}.", nameof(channels));
        int plane = height * width;
        var shown = new float[channels * plane];
        for (int c = 0; c < channels; c++)
        {
            Span<float> channel = shown.AsSpan(c * plane, plane);
            attribution.Slice(c * plane, plane).CopyTo(channel);
            CentreOnHalf(channel);
        }
        int red = channels == 1 ? 0 : bgr ? 2 : 0, blue = channels == 1 ? 0 : bgr ? 0 : 2, green = channels == 1 ? 0 : 1;
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < width; x++)
                {
                    int i = y * width + x;
                    row[x] = new Rgb24(Byte(shown[red * plane + i]), Byte(shown[green * plane + i]), Byte(shown[blue * plane + i]));
                }
            }
        });
        return image;
    }

    /// <summary>Divides by the largest magnitude (so the values lie in [-1, 1]); a zero span stays zero.</summary>
    private static void Normalize(Span<float> values)
    {
        float max = Math.Abs(TensorPrimitives.MaxMagnitude(values));
        if (max > 0f) TensorPrimitives.Divide(values, max, values);
    }

    /// <summary>Maps to [0, 1] with 0 at 0.5: 0.5 + 0.5 · v / max |v|.</summary>
    private static void CentreOnHalf(Span<float> values)
    {
        Normalize(values);
        TensorPrimitives.Multiply(values, 0.5f, values);
        TensorPrimitives.Add(values, 0.5f, values);
    }

    private static void Check(ReadOnlySpan<float> attribution, int channels, int height, int width)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels), $"An attribution needs positive dimensions; got {channels}x{height}x{width}.");
        if (attribution.Length != channels * height * width)
            throw new ArgumentException($"An attribution of {channels}x{height}x{width} needs {channels * height * width} values; got {attribution.Length}.", nameof(attribution));
        if (!TensorPrimitives.IsFiniteAll<float>(attribution))
            throw new ArgumentException("The attribution contains NaN or infinite values.", nameof(attribution));
    }

    private static byte Byte(float v) => (byte)(Math.Clamp(v, 0f, 1f) * 255f + 0.5f);
}
