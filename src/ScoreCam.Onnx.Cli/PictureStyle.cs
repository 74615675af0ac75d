using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// How explain and report draw an explanation: the heatmap over the picture (or over the tensor turned back into a
/// picture) as an overlay or a panel; and, for pixel-space methods, the attribution as their papers show it.
/// </summary>
internal sealed record PictureStyle(OverlayOptions Overlay, bool Panel, AttributionView? View)
{
    /// <summary>The overlay (or panel) of <paramref name="e"/>'s heatmap; without a picture, over the tensor's own picture.</summary>
    public Image<Rgb24> Draw(Image<Rgb24>? picture, ImageTensor tensor, Explanation e, PreprocessOptions preprocessing)
    {
        using Image<Rgb24> background = picture?.Clone() ?? TensorImage.ToPicture(tensor, preprocessing);
        SourceRegion? region = picture is null ? null : tensor.SourceRegion;
        return Panel ? HeatmapRenderer.Panel(background, e.Heatmap, region, Overlay) : HeatmapRenderer.Render(background, e.Heatmap, region, Overlay);
    }

    /// <summary>
    /// The view a method's attribution is drawn in: the one asked for; else Guided Backpropagation's gradient picture
    /// for guided methods (Springenberg et al., the Score-CAM paper's Figure 1) and Simonyan et al.'s grey magnitude otherwise.
    /// </summary>
    public AttributionView ViewFor(string method) =>
        View ?? (method.StartsWith("guided", StringComparison.OrdinalIgnoreCase) ? AttributionView.Rgb : AttributionView.Magnitude);

    /// <summary>The attribution picture of a pixel-space explanation; null when the method has no C×H×W attribution.</summary>
    public Image<Rgb24>? DrawAttribution(Explanation e, PreprocessOptions preprocessing)
    {
        if (e.Attribution is not { } a) return null;
        AttributionView view = ViewFor(e.Method);
        return AttributionRenderer.Render(a.Values, a.Channels, a.Height, a.Width, view, Overlay.MinShortSide,
            colorBar: Overlay.ColorBar && view != AttributionView.Rgb, bgr: preprocessing.Bgr);
    }

    /// <summary>Where the attribution picture goes beside the overlay: NAME-METHOD-VIEW.png.</summary>
    public string AttributionPath(string overlayPath, Explanation e) =>
        Path.Combine(Path.GetDirectoryName(overlayPath) ?? "", $"{Path.GetFileNameWithoutExtension(overlayPath)}-{ViewFor(e.Method).ToString().ToLowerInvariant()}.png");
}
