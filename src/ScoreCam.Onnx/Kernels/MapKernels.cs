using System.Numerics.Tensors;

namespace ScoreCam.Onnx.Kernels;

/// <summary>Allocation-free operations on activation maps and images stored as contiguous planes.</summary>
internal static class MapKernels
{
    /// <summary>
    /// Min-max normalizes <paramref name="map"/> into [0, 1] in place (paper eq. 1, with the minimum subtracted as
    /// its text requires). Returns false, leaving the map untouched, when the map is constant (max == min).
    /// </summary>
    public static bool TryMinMaxNormalize(Span<float> map)
    {
        float min = TensorPrimitives.Min(map), max = TensorPrimitives.Max(map);
        if (!(max > min)) return false;
        TensorPrimitives.Subtract(map, min, map);
        TensorPrimitives.Multiply(map, 1f / (max - min), map);
        return true;
    }

    /// <summary>Sets every positive value to 1 and the rest to 0: the binarized masks of the paper's section 4.2.</summary>
    public static void Binarize(Span<float> map)
    {
        for (int i = 0; i < map.Length; i++) map[i] = map[i] > 0f ? 1f : 0f;
    }

    /// <summary>
    /// Masked image (paper eq. 2): <c>destination[c] = mask ⊙ image[c]</c> for each of the image's planes;
    /// <paramref name="image"/> and <paramref name="destination"/> hold <c>image.Length / mask.Length</c> planes.
    /// </summary>
    public static void ApplyMask(ReadOnlySpan<float> image, ReadOnlySpan<float> mask, Span<float> destination)
    {
        int plane = mask.Length;
        if (plane == 0 || image.Length % plane != 0)
            throw new ArgumentException("The image must hold a whole number of mask-sized planes.", nameof(image));
        if (destination.Length < image.Length)
            throw new ArgumentException("Destination is shorter than the image.", nameof(destination));
        for (int offset = 0; offset < image.Length; offset += plane)
            TensorPrimitives.Multiply(image.Slice(offset, plane), mask, destination.Slice(offset, plane));
    }

    /// <summary>
    /// <c>destination = Σ_k weights[k] · maps[k]</c> over <c>weights.Length</c> planes of <c>destination.Length</c>
    /// values each (the weighted channel sum inside paper eq. 5).
    /// </summary>
    public static void WeightedSum(ReadOnlySpan<float> maps, ReadOnlySpan<float> weights, Span<float> destination)
    {
        int plane = destination.Length;
        if (maps.Length < weights.Length * plane)
            throw new ArgumentException("Maps must hold one plane per weight.", nameof(maps));
        destination.Clear();
        for (int k = 0; k < weights.Length; k++)
        {
            float wk = weights[k];
            if (wk != 0f) TensorPrimitives.MultiplyAdd(maps.Slice(k * plane, plane), wk, destination, destination);
        }
    }

    /// <summary>ReLU in place.</summary>
    public static void Relu(Span<float> values) => TensorPrimitives.Max(values, 0f, values);

    /// <summary>Numerically stable softmax of <paramref name="scores"/> into <paramref name="destination"/>.</summary>
    public static void Softmax(ReadOnlySpan<float> scores, Span<float> destination)
    {
        // Shift by the maximum so that large logits cannot overflow exp.
        destination = destination[..scores.Length];
        TensorPrimitives.Subtract(scores, TensorPrimitives.Max(scores), destination);
        TensorPrimitives.Exp(destination, destination);
        TensorPrimitives.Divide(destination, TensorPrimitives.Sum(destination), destination);
    }

    /// <summary>Logistic sigmoid of one score: the probability of a single-logit binary classifier.</summary>
    public static float Sigmoid(float score) => 1f / (1f + MathF.Exp(-score));
}
