namespace ScoreCam.Onnx.Core;

/// <summary>
/// One preprocessed image, C×H×W floats in row-major planes (the model's input without the batch dimension).
/// <see cref="SourceRegion"/> records which part of the original picture it shows, for drawing overlays.
/// </summary>
public sealed class ImageTensor
{
    public ImageTensor(float[] data, int channels, int height, int width, SourceRegion? sourceRegion = null)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ScoreCamException($"An image tensor needs positive dimensions; got {channels}x{height}x{width}.");
        if (data.Length != channels * height * width)
            throw new ScoreCamException($"An image tensor of {channels}x{height}x{width} needs {channels * height * width} values; got {data.Length}.");
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(data))
            throw new ScoreCamException("The image tensor contains NaN or infinite values.");
        (Data, Channels, Height, Width, SourceRegion) = (data, channels, height, width, sourceRegion);
    }

    public float[] Data { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public SourceRegion? SourceRegion { get; }

    internal long[] Shape(int batch) => new long[] { batch, Channels, Height, Width };
}

/// <summary>The rectangle of the original picture (in its pixels) that a preprocessed tensor covers.</summary>
public sealed record SourceRegion(int OriginalWidth, int OriginalHeight, int X, int Y, int Width, int Height);
