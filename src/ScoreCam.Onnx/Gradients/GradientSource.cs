using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// What a gradient graph differentiates with respect to: the model's tensor (the target layer's activations, or the
/// image input), the graph input that carries it and its per-sample shape, the gradient output's name, the ReLU rule,
/// and the metadata that identify a saved graph made for the same source.
/// </summary>
/// <param name="Tensor">The model's tensor the gradient is taken with respect to.</param>
/// <param name="GraphInput">The gradient graph's input that feeds <paramref name="Tensor"/>.</param>
/// <param name="Shape">Its shape without the batch dimension (K×h×w or C×H×W).</param>
/// <param name="GradientOutput">The gradient graph's output holding d Σ(seed ⊙ logits) / d<paramref name="Tensor"/>.</param>
/// <param name="Guided">Guided Backpropagation's rule for ReLU (and Clip from 0) instead of the true derivative.</param>
/// <param name="Description">How messages name the source, e.g. "the target layer 'x'".</param>
/// <param name="Remedy">What to do when a node between the source and the output cannot be differentiated.</param>
/// <param name="BypassRemedy">What to do when the output reads a graph input other than through the source.</param>
/// <param name="Metadata">Recorded in the graph (prefixed) and compared when a saved graph is loaded.</param>
/// <param name="Leaf">
/// When set, the graph runs the whole model from <paramref name="Tensor"/> (the image) and differentiates with respect
/// to this layer's tensor instead, held as a leaf: every other path (a residual stream around the layer, shapes read
/// from the input) keeps its forward value, as a framework's hook on the layer sees it. The gradient output holds
/// the layer's maps, N×K×h×w.
/// </param>
internal sealed record GradientSource(
    string Tensor, string GraphInput, long[] Shape, string GradientOutput, bool Guided,
    string Description, string Remedy, string BypassRemedy, IReadOnlyDictionary<string, string> Metadata, TargetLayer? Leaf = null);
