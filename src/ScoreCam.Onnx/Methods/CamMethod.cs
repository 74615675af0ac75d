namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A class-activation-map method: turns the target layer's activations into one weight per channel and target.
/// <see cref="CamExplainer"/> does the forward pass before and the combination L = ReLU(Σ_k w_k A_k) after
/// (paper eq. 5), so a new method is only this one function. Implementations must be thread-safe.
/// </summary>
public abstract class CamMethod
{
    /// <summary>The method's name as the CLI and the JSON spell it.</summary>
    public abstract string Name { get; }

    /// <summary>Weights w[t][k] for each target t and channel k.</summary>
    public abstract float[][] ChannelWeights(CamContext context);

    /// <summary>
    /// The low-resolution map of target <paramref name="target"/> before the final ReLU: Σ_k w_k A_k (paper eq. 5) by
    /// default. A method whose map is not a channel-weighted sum (LayerCAM's element-wise weights) overrides it.
    /// </summary>
    public virtual void CombineMaps(CamContext context, int target, ReadOnlySpan<float> weights, Span<float> map) =>
        Kernels.MapKernels.WeightedSum(context.Activations, weights, map);
}
