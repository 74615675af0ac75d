using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Imaging;

/// <summary>Turns a picture into the model's input tensor: resize, channel order, scale, mean/std normalization.</summary>
public static class Preprocessor
{
    public static ImageTensor ToTensor(Image<Rgb24> image, PreprocessOptions options, int channels = 3)
    {
        options.Validate(channels);
        Rectangle region = SourceRectangle(image.Width, image.Height, options);
        using Image<Rgb24> resized = image.Clone(ctx => ctx
            .Crop(region)
            .Resize(new ResizeOptions { Size = new Size(options.Width, options.Height), Mode = SixLabors.ImageSharp.Processing.ResizeMode.Stretch, Sampler = KnownResamplers.Triangle }));

        int plane = options.Width * options.Height;
        var data = new float[channels * plane];
        float unit = options.Scale / 255f;
        resized.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    Rgb24 p = row[x];
                    int i = y * options.Width + x;
                    if (channels == 1)
                    {
                        // ITU-R 601 luma, as PIL's convert("L").
                        float gray = (0.299f * p.R + 0.587f * p.G + 0.114f * p.B) * unit;
                        data[i] = (gray - options.Mean[0]) / options.Std[0];
                        continue;
                    }
                    (byte c0, byte c2) = options.Bgr ? (p.B, p.R) : (p.R, p.B);
                    data[i] = (c0 * unit - options.Mean[0]) / options.Std[0];
                    data[plane + i] = (p.G * unit - options.Mean[1]) / options.Std[1];
                    data[2 * plane + i] = (c2 * unit - options.Mean[2]) / options.Std[2];
                }
            }
        });
        return new ImageTensor(data, channels, options.Height, options.Width,
            new SourceRegion(image.Width, image.Height, region.X, region.Y, region.Width, region.Height));
    }

    /// <summary>The part of the picture that becomes the input: all of it (stretch) or its centre at the input's aspect ratio (crop).</summary>
    public static Rectangle SourceRectangle(int width, int height, PreprocessOptions options)
    {
        if (options.Resize == ResizeMode.Stretch) return new Rectangle(0, 0, width, height);
        double scale = Math.Max(options.Width / (double)width, options.Height / (double)height);
        int w = Math.Clamp((int)Math.Round(options.Width / scale), 1, width);
        int h = Math.Clamp((int)Math.Round(options.Height / scale), 1, height);
        return new Rectangle((width - w) / 2, (height - h) / 2, w, h);
    }
}
