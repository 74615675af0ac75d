using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// A counterfactual explanation (paper section 5.5.2): <see cref="Explanation"/> holds L_CE = ReLU(L^target −
/// L^reference) as its map (and its display heatmap), explained for the target; the two class explanations it was
/// made from; the input masked by (1 − L_CE); and the paper's check on it.
/// </summary>
public sealed record CounterfactualExplanation(
    Explanation Explanation,
    Explanation TargetExplanation,
    Explanation ReferenceExplanation,
    ImageTensor MaskedInput,
    CounterfactualCheck Check);

/// <summary>The class probabilities of the target and the reference on the input and on the input masked by (1 − L_CE).</summary>
public sealed record CounterfactualCheck(float TargetOnInput, float ReferenceOnInput, float TargetOnMasked, float ReferenceOnMasked);
