using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Imaging;

/// <summary>
/// Pictures as cameras store them: an upright picture's pixels laid out for an EXIF orientation, saved with the tag
/// that tells viewers how to turn them back. The layout follows the tag's definition (TIFF 6.0, EXIF 2.32: the side
/// of the shown picture where the stored first row lies, then the side where the stored first column lies), pixel by
/// pixel, independently of the transforms the loader runs.
/// </summary>
internal static class OrientedPictures
{
    public static string SamplePath { get; } = Repository.Path("onnx-models", "fashion-clutter", "sample.png");

    public static Image<Rgb24> Sample() => Image.Load<Rgb24>(SamplePath);

    /// <summary>The pixels a camera stores for <paramref name="upright"/> with orientation 1-8.</summary>
    public static Image<Rgb24> Stored(Image<Rgb24> upright, int orientation)
    {
        if (orientation is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF defines orientations 1 to 8.");
        int w = upright.Width, h = upright.Height;
        var stored = orientation >= 5 ? new Image<Rgb24>(h, w) : new Image<Rgb24>(w, h);
        for (int r = 0; r < stored.Height; r++)
            for (int c = 0; c < stored.Width; c++)
            {
                var (x, y) = Shown(orientation, r, c, w, h);
                stored[c, r] = upright[x, y];
            }
        return stored;
    }

    /// <summary>Where stored row <paramref name="r"/>, column <paramref name="c"/> is shown in the w×h upright picture.</summary>
    private static (int X, int Y) Shown(int orientation, int r, int c, int w, int h) => orientation switch
    {
        1 => (c, r),                 // first row at the top, first column at the left
        2 => (w - 1 - c, r),         // top, right
        3 => (w - 1 - c, h - 1 - r), // bottom, right
        4 => (c, h - 1 - r),         // bottom, left
        5 => (r, c),                 // left, top
        6 => (w - 1 - r, c),         // right, top
        7 => (w - 1 - r, h - 1 - c), // right, bottom
        _ => (r, h - 1 - c),         // 8: left, bottom
    };

    /// <summary>
    /// Saves <paramref name="stored"/> with the Orientation tag <paramref name="tag"/> (none when null), in the format
    /// of the path's extension: .png (an eXIf chunk), lossless .webp and .tiff (exact pixels), or .jpg (quality 100,
    /// no chroma subsampling: within rounding of the pixels).
    /// </summary>
    public static string Save(Image<Rgb24> stored, ushort? tag, string path)
    {
        using Image<Rgb24> copy = stored.Clone();
        copy.Metadata.ExifProfile = null;
        if (tag is { } value)
        {
            var profile = new ExifProfile();
            profile.SetValue(ExifTag.Orientation, value);
            // A TIFF's tags are its page's (its first frame's); the other formats carry one EXIF block for the image.
            if (Path.GetExtension(path) == ".tiff") copy.Frames.RootFrame.Metadata.ExifProfile = profile;
            else copy.Metadata.ExifProfile = profile;
        }
        switch (Path.GetExtension(path))
        {
            case ".png": copy.SaveAsPng(path); break;
            case ".webp": copy.SaveAsWebp(path, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }); break;
            case ".tiff": copy.SaveAsTiff(path); break;
            case ".jpg": copy.SaveAsJpeg(path, new JpegEncoder { Quality = 100, ColorType = JpegColorType.YCbCrRatio444 }); break;
            default: throw new ArgumentException($"No encoder for '{path}'.", nameof(path));
        }
        return path;
    }

    /// <summary>Writes the upright sample as o1 ... o8 (each stored for its orientation, with its tag) into <paramref name="folder"/>.</summary>
    public static IReadOnlyList<string> WriteAllEight(Image<Rgb24> upright, string folder, string extension = ".png")
    {
        var paths = new List<string>();
        for (ushort v = 1; v <= 8; v++)
        {
            using Image<Rgb24> stored = Stored(upright, v);
            paths.Add(Save(stored, v, Path.Combine(folder, $"o{v}{extension}")));
        }
        return paths;
    }

    /// <summary>The size (width, height as 32-bit numbers), then the pixels row by row: pictures compared exactly.</summary>
    public static byte[] Pixels(Image<Rgb24> image)
    {
        var bytes = new byte[8 + 3 * image.Width * image.Height];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), image.Width);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), image.Height);
        for (int y = 0, i = 8; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++, i += 3)
                (bytes[i], bytes[i + 1], bytes[i + 2]) = (image[x, y].R, image[x, y].G, image[x, y].B);
        return bytes;
    }
}
