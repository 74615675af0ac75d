using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli;

/// <summary>The colormap flag's parser (explain, report, serve) and the overlay `serve` returns.</summary>
internal static class OverlayPicture
{
    /// <summary>The value of <c>--colormap</c>.</summary>
    public static Colormap ParseColormap(string text) => text.ToLowerInvariant() switch
    {
        "jet" => Colormap.Jet,
        "viridis" => Colormap.Viridis,
        var other => throw new UsageException($"--colormap must be jet or viridis; got '{other}'."),
    };

    /// <summary>The heatmap over the part of <paramref name="picture"/> the model saw, at the picture's size; over the tensor shown as a picture when there is none.</summary>
    public static Image<Rgb24> Render(CamExplainer explainer, Image<Rgb24>? picture, ImageTensor tensor, Explanation result, Colormap colormap) =>
        new PictureStyle(new OverlayOptions { Colormap = colormap, MinShortSide = 0 }, false, null).Draw(picture, tensor, result, explainer.Preprocessing);
}
