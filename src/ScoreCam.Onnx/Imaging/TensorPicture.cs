using ScoreCam.Onnx.Core;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Imaging;

/// <summary>Turns a preprocessed tensor back into a picture (undoing mean/std and scale) to draw an overlay on.</summary>
public static class TensorPicture
{
    public static Image<Rgb24> ToPicture(ImageTensor tensor, PreprocessOptions p)
    {
        var image = new Image<Rgb24>(tensor.Width, tensor.Height);
        int plane = tensor.Width * tensor.Height;
        byte Pixel(int channel, int i)
        {
            int c = tensor.Channels == 1 ? 0 : channel;
            float v = (tensor.Data[c * plane + i] * p.Std[c] + p.Mean[c]) * 255f / p.Scale;
            return (byte)Math.Clamp(v + 0.5f, 0f, 255f);
        }
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < tensor.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < tensor.Width; x++)
                {
                    int i = y * tensor.Width + x;
                    (byte r, byte b) = p.Bgr ? (Pixel(2, i), Pixel(0, i)) : (Pixel(0, i), Pixel(2, i));
                    row[x] = new Rgb24(r, Pixel(1, i), b);
                }
            }
        });
        return image;
    }
}
