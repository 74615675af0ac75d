using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// A fixed float32 value for a model input other than the image, such as a caption model's previous words (paper
/// section 5.5.3): the same value goes with every pass, broadcast over the batch. It holds one row: its shape is the
/// input's shape with the batch dimension 1, or without the batch dimension.
/// </summary>
public sealed class InputFeed
{
    public InputFeed(float[] values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(d => d < 0) || shape.Aggregate(1L, (a, d) => a * d) != values.Length)
            throw new ArgumentException($"Shape [{string.Join('x', shape)}] does not hold {values.Length} values.", nameof(shape));
        (Data, Shape) = (values, shape);
    }

    /// <summary>The values, in C order.</summary>
    public ReadOnlyMemory<float> Values => Data;

    internal float[] Data { get; }

    public IReadOnlyList<int> Shape { get; }

    /// <summary>A float32 .npy array (what <c>numpy.save</c> writes for <c>x.astype('&lt;f4')</c>).</summary>
    public static InputFeed Read(string path)
    {
        var (data, shape) = NpyFile.Read(path);
        int bad = Array.FindIndex(data, v => !float.IsFinite(v));
        if (bad >= 0) throw new ScoreCamException($"'{path}' holds {data[bad]} at index {bad}; a fed input must hold finite values.");
        return new InputFeed(data, shape);
    }
}
