using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli;

/// <summary>The overlay of an explanation, as `explain` writes it and `serve` returns it.</summary>
internal static class OverlayPicture
{
    /// <summary>The value of <c>--colormap</c>.</summary>
    public static Colormap ParseColormap(string text) => text.ToLowerInvariant() switch
    {
        "jet" => Colormap.Jet,
        "viridis" => Colormap.Viridis,
        var other => throw new UsageException($"--colormap must be jet or viridis; got '{other}'."),
    };

    /// <summary>The heatmap over the part of <paramref name="picture"/> the model saw; over the tensor shown as a picture when there is none.</summary>
    public static Image<Rgb24> Render(CamExplainer explainer, Image<Rgb24>? picture, ImageTensor tensor, Explanation result, Colormap colormap)
    {
        using Image<Rgb24> background = picture?.Clone() ?? TensorImage.ToPicture(tensor, explainer.Preprocessing);
        return HeatmapRenderer.Overlay(background, result.Heatmap, picture is null ? null : tensor.SourceRegion, colormap);
    }
}
