using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// A decoded picture and the EXIF orientation that was applied to its stored pixels to make it (disposing this
/// disposes <see cref="Image"/>). <see cref="Image"/> carries no orientation tag of its own: its pixels are the
/// picture as it is explained.
/// </summary>
public sealed class LoadedImage(Image<Rgb24> image, ExifOrientation orientation, ushort? storedOrientation, string? warning) : IDisposable
{
    /// <summary>The picture: upright as viewers show it, unless the stored pixels were asked for.</summary>
    public Image<Rgb24> Image { get; } = image;

    /// <summary>
    /// The orientation applied: the file's tag, or <see cref="ExifOrientation.TopLeft"/> (1, nothing applied) when it
    /// has none, when its value is not one of the eight defined, or when the stored pixels were asked for.
    /// </summary>
    public ExifOrientation Orientation { get; } = orientation;

    /// <summary>The file's Orientation tag as read, whether applied or not; null when the file has none.</summary>
    public ushort? StoredOrientation { get; } = storedOrientation;

    /// <summary>
    /// Why the file's orientation was not applied although it has one: its value is not one of the eight, its entry is
    /// malformed or its EXIF data cannot be read; null otherwise, and when the stored pixels were asked for.
    /// </summary>
    public string? Warning { get; } = warning;

    public void Dispose() => Image.Dispose();
}
