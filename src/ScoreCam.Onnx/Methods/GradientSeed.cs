using ScoreCam.Onnx.Gradients;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The seed of a gradient pass: the gradient of the target's scalar with respect to the gradient graph's logits.
/// One-hot for a class (its pre-softmax score, as Grad-CAM differentiates). A custom score of the output row is
/// differentiated numerically; when the row holds probabilities and the graph's logits are the Softmax's input,
/// through the Softmax (its <see cref="SoftmaxAxis"/>): s_logits = p ⊙ (s − ⟨s, p⟩) over each group it normalises.
/// </summary>
internal static class GradientSeed
{
    public static void Write(ResolvedTarget target, ReadOnlySpan<float> row, Span<float> seed, SoftmaxAxis? softmax = null)
    {
        seed.Clear();
        if (target.ClassIndex is { } c)
        {
            seed[c] = 1f;
            return;
        }
        float[] probe = row.ToArray();
        var none = Array.Empty<float>();
        // The score is a float: a step of 1% of the row's largest entry keeps its rounding (ulp / 2h) far below the
        // gradient while the central difference's O(h²) error stays small for smooth scores (cosine similarity).
        float h = 1e-2f * Math.Max(1e-3f, System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row));
        for (int j = 0; j < row.Length; j++)
        {
            probe[j] = row[j] + h;
            double up = target.Score(probe, none, ScoreMode.RawScore);
            probe[j] = row[j] - h;
            double down = target.Score(probe, none, ScoreMode.RawScore);
            probe[j] = row[j];
            seed[j] = (float)((up - down) / ((double)(row[j] + h) - (row[j] - h)));
        }
        softmax?.Backward(row, seed);
    }
}
