using System.Collections.Concurrent;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// Loads pictures with ImageSharp, reading the header first so that an oversized image is refused before any
/// pixel is decoded. Only the first frame of an animation or a multi-page TIFF is decoded, and the decoder may not
/// allocate a buffer larger than the pixel limit allows (a corrupt chunk length cannot claim gigabytes).
/// The picture is turned upright as viewers show it, by the EXIF Orientation tag of a JPEG, TIFF, WebP or PNG (eXIf
/// chunk), unless the stored pixels are asked for.
/// </summary>
public static class ImageLoader
{
    public const long DefaultMaxPixels = 50_000_000;

    /// <summary>Bytes per pixel a decoder may need for one buffer: the widest pixel type it decodes through (64-bit RGBA).</summary>
    private const int DecoderBytesPerPixel = 8;
    private const int MinDecoderBufferMegabytes = 16;

    // ImageSharp recommends few, long-lived allocators (they pool); one per limit in use.
    private static readonly ConcurrentDictionary<int, MemoryAllocator> Allocators = new();

    /// <summary>Loads a picture file; <c>keepStoredOrientation</c> keeps the pixels as the file stores them, ignoring its orientation tag.</summary>
    public static LoadedImage Load(string path, long maxPixels = DefaultMaxPixels, bool keepStoredOrientation = false)
    {
        if (maxPixels <= 0) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, "The pixel limit must be positive.");
        if (!File.Exists(path)) throw new ScoreCamException($"Image file '{path}' does not exist.");
        try
        {
            using var stream = File.OpenRead(path);
            return Load(stream, path, maxPixels, keepStoredOrientation);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScoreCamException($"Image '{path}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Loads a picture from a seekable stream (an upload); <paramref name="name"/> names it in error messages.</summary>
    public static LoadedImage Load(Stream stream, string name, long maxPixels = DefaultMaxPixels, bool keepStoredOrientation = false)
    {
        if (maxPixels <= 0) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, "The pixel limit must be positive.");
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable: the header is read before the pixels.", nameof(stream));
        int bufferLimitMegabytes = DecoderBufferLimitMegabytes(maxPixels);
        var configuration = Configuration.Default.Clone();
        configuration.MemoryAllocator = Allocators.GetOrAdd(bufferLimitMegabytes,
            mb => MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = mb }));
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
        long start = stream.Position;
        try
        {
            IImageInfo? info = Image.Identify(configuration, stream);
            if (info is null)
                throw new ScoreCamException($"'{name}' is not an image in a supported format (PNG, JPEG, BMP, GIF, TGA, TIFF, WebP, PBM).");
            long pixels = (long)info.Width * info.Height;
            if (pixels > maxPixels)
                throw new ScoreCamException(
                    $"Image '{name}' is {info.Width}x{info.Height} ({pixels / 1e6:0.#} megapixels), over the limit of {maxPixels / 1e6:0.#} megapixels. Downscale it first or raise the limit (ExplainerOptions.MaxImagePixels).");
            stream.Position = start;
            Image<Rgb24> image = Image.Load<Rgb24>(configuration, stream);
            var (stored, unreadable) = ReadOrientation(image);
            string? problem = unreadable is not null ? $"its EXIF data cannot be read ({unreadable.TrimEnd('.')})"
                : stored is null && !keepStoredOrientation ? OrientationTagScan.Problem(stream, start) : null;
            if (image.Frames.Count > 1)
            {
                Image<Rgb24> first = image.Frames.CloneFrame(0);
                image.Dispose();
                image = first;
            }
            try
            {
                return Orient(image, name, stored, problem, keepStoredOrientation);
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is not ScoreCamException)
        {
            // Only ImageSharp (and the bounded orientation tag scan) runs in this block. Its 2.1 decoders report malformed files not only as
            // InvalidImageContentException but as NullReference, ArgumentOutOfRange, InvalidOperation and other
            // exceptions (found by the fuzz test), so every exception here is an undecodable file unless it is about
            // memory or reading.
            throw e switch
            {
                _ when e is InvalidMemoryOperationException || e.InnerException is InvalidMemoryOperationException => new ScoreCamException(
                    $"Image '{name}' asks the decoder for more memory than its size allows (one buffer over {bufferLimitMegabytes} MB, the cap for " +
                    $"{maxPixels / 1e6:0.#} megapixels); the file is corrupt or crafted.", e),
                OutOfMemoryException => new ScoreCamException($"Image '{name}' needs more memory to decode than is available; downscale it first.", e),
                UnauthorizedAccessException or IOException and not EndOfStreamException => new ScoreCamException($"Image '{name}' cannot be read: {e.Message}", e),
                _ => new ScoreCamException($"Image '{name}' cannot be decoded ({e.Message.TrimEnd('.')}). The file may be truncated or corrupt.", e),
            };
        }
    }

    /// <summary>
    /// The Orientation tag: in the image's EXIF profile (JPEG, PNG, WebP) or its first frame's (TIFF keeps its tags per
    /// page). ImageSharp parses EXIF lazily; a block it cannot parse is reported, not fatal: the pixels are fine.
    /// </summary>
    private static (ushort? Value, string? Unreadable) ReadOrientation(Image image)
    {
        try
        {
            foreach (ExifProfile? profile in new[] { image.Metadata.ExifProfile, image.Frames.RootFrame.Metadata.ExifProfile })
                if (profile?.GetValue(ExifTag.Orientation) is { } tag) return (tag.Value, null);
            return (null, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Turns the picture upright by its tag; <c>problem</c> says why a file with EXIF data has no usable tag.</summary>
    private static LoadedImage Orient(Image<Rgb24> image, string name, ushort? stored, string? problem, bool keepStored)
    {
        if (problem is not null)
            return new LoadedImage(image, ExifOrientation.TopLeft, null, keepStored ? null : $"Image '{name}': {problem}; it is explained as its pixels are stored.");
        ClearOrientation(image);
        if (stored is not { } value || keepStored) return new LoadedImage(image, ExifOrientation.TopLeft, stored, null);
        var orientation = (ExifOrientation)value;
        if (!Enum.IsDefined(orientation))
            return new LoadedImage(image, ExifOrientation.TopLeft, stored,
                $"Image '{name}' has EXIF orientation {value}, which is not one of the eight defined values (1-8); it is explained as its pixels are stored.");
        if (orientation != ExifOrientation.TopLeft)
        {
            // AutoOrient reads the image's own profile (a TIFF's tag is its frame's) and leaves the tag at 1.
            (image.Metadata.ExifProfile ??= new ExifProfile()).SetValue(ExifTag.Orientation, value);
            image.Mutate(x => x.AutoOrient());
            ClearOrientation(image);
        }
        return new LoadedImage(image, orientation, stored, null);
    }

    /// <summary>The returned pixels are the picture as explained; a tag left on them would turn copies of it (overlays) again in viewers.</summary>
    private static void ClearOrientation(Image image)
    {
        image.Metadata.ExifProfile?.RemoveValue(ExifTag.Orientation);
        image.Frames.RootFrame.Metadata.ExifProfile?.RemoveValue(ExifTag.Orientation);
    }

    private static int DecoderBufferLimitMegabytes(long maxPixels) =>
        (int)Math.Clamp(maxPixels * DecoderBytesPerPixel / (1 << 20) + 1, MinDecoderBufferMegabytes, int.MaxValue);
}
