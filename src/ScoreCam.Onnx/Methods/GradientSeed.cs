using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The seed of a gradient pass: the gradient of the target's score with respect to the gradient graph's logits, a
/// full tensor over the output the target reads. One-hot for a class (its pre-softmax score, as Grad-CAM
/// differentiates). Any other target gives its <see cref="ResolvedTarget.Derivative"/> with respect to the output;
/// when the output holds probabilities and the graph's logits are the Softmax's input, that is carried through the
/// Softmax (its <see cref="SoftmaxAxis"/>): s_logits = p ⊙ (s − ⟨s, p⟩) over each group it normalises.
/// </summary>
internal static class GradientSeed
{
    public static void Write(ResolvedTarget target, PreparedModel model, ReadOnlySpan<float> row, Span<float> seed, SoftmaxAxis? softmax = null)
    {
        seed.Clear();
        target.Derivative(TargetScorer.Outputs(model, row), seed);
        if (target.ClassIndex is null) softmax?.Backward(row, seed);
    }
}
