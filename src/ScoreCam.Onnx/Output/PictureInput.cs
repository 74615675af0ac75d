using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// One input of the <see cref="ExplanationPipeline"/>: the picture as loaded (null for a preprocessed tensor), its
/// tensor and its unmasked forward pass, made once on first use and shared by every method that explains it.
/// Owns the picture.
/// </summary>
public sealed class PictureInput : IDisposable
{
    private readonly CamExplainer _explainer;
    private UnmaskedPass? _pass;

    internal PictureInput(CamExplainer explainer, string name, Image<Rgb24>? picture, ImageTensor tensor, ExifOrientation orientation = ExifOrientation.TopLeft) =>
        (_explainer, Name, Picture, Tensor, Orientation) = (explainer, name, picture, tensor, orientation);

    /// <summary>How the input was named: a path as given, an upload's file name, "sample".</summary>
    public string Name { get; }
    /// <summary>The picture the overlays are drawn on; null when the input is a tensor (overlays then show the tensor as a picture).</summary>
    public Image<Rgb24>? Picture { get; }
    public ImageTensor Tensor { get; }
    /// <summary>The EXIF orientation applied to the file's pixels to make <see cref="Picture"/> (TopLeft: none).</summary>
    public ExifOrientation Orientation { get; }

    /// <summary>The unmasked forward pass, run on first use.</summary>
    public UnmaskedPass Pass => _pass ??= _explainer.Forward(Tensor);

    public void Dispose() => Picture?.Dispose();
}
