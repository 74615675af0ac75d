using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// How an explanation is drawn: the heatmap over the picture (or over the tensor turned back into a picture) as a
/// panel (input | overlay | heatmap, the default) or the overlay alone; and, for pixel-space methods, the attribution
/// as their papers show it (<see cref="View"/>; null: the method's usual view).
/// </summary>
public sealed record PictureStyle(OverlayOptions Overlay, bool Panel = true, AttributionView? View = null)
{
    /// <summary>The panel with a colour bar, jet, alpha 0.5, pictures scaled up to a 384-pixel short side.</summary>
    public static PictureStyle Default { get; } = new(new OverlayOptions { ColorBar = true });

    /// <summary>
    /// The overlay (or panel) of <paramref name="e"/>'s heatmap; without a picture, over the tensor's own picture. The
    /// <paramref name="boxes"/> (input pixels, such as the detection explained) are outlined and captioned on the picture.
    /// </summary>
    public Image<Rgb24> Draw(Image<Rgb24>? picture, ImageTensor tensor, Explanation e, PreprocessOptions preprocessing, IReadOnlyList<LabelledBox>? boxes = null)
    {
        using Image<Rgb24> background = picture?.Clone() ?? TensorPicture.ToPicture(tensor, preprocessing);
        SourceRegion? region = picture is null ? null : tensor.SourceRegion;
        foreach (LabelledBox box in boxes ?? Array.Empty<LabelledBox>()) BoxOutline.Draw(background, box, tensor, region);
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
}
