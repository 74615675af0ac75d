using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// Loads pictures with ImageSharp, reading the header first so that an oversized image is refused before any
/// pixel is decoded. Only the first frame of an animation is decoded.
/// </summary>
public static class ImageLoader
{
    public const long DefaultMaxPixels = 50_000_000;

    public static Image<Rgb24> Load(string path, long maxPixels = DefaultMaxPixels)
    {
        if (!File.Exists(path)) throw new ScoreCamException($"Image file '{path}' does not exist.");
        var configuration = Configuration.Default.Clone();
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        try
        {
            using var stream = File.OpenRead(path);
            IImageInfo? info = Image.Identify(configuration, stream);
            if (info is null)
                throw new ScoreCamException($"'{path}' is not an image in a supported format (PNG, JPEG, BMP, GIF, TGA, TIFF, WebP, PBM).");
            long pixels = (long)info.Width * info.Height;
            if (pixels > maxPixels)
                throw new ScoreCamException(
                    $"Image '{path}' is {info.Width}x{info.Height} ({pixels / 1e6:0.#} megapixels), over the limit of {maxPixels / 1e6:0.#} megapixels. Downscale it first or raise the limit (--max-megapixels).");
            stream.Position = 0;
            Image<Rgb24> image = Image.Load<Rgb24>(configuration, stream);
            if (image.Frames.Count > 1)
            {
                Image<Rgb24> first = image.Frames.CloneFrame(0);
                image.Dispose();
                return first;
            }
            return image;
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException or NotSupportedException)
        {
            throw new ScoreCamException($"Image '{path}' cannot be decoded ({e.Message.TrimEnd('.')}). The file may be truncated or corrupt.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScoreCamException($"Image '{path}' cannot be read: {e.Message}", e);
        }
    }
}
