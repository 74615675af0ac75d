using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A class-activation-map method: one weight per channel and target, combined into L = ReLU(Σ_k w_k A_k) at the
/// target layer's resolution (paper eq. 5). A new method overrides <see cref="ChannelWeights"/> only; one whose map
/// is not a channel-weighted sum (LayerCAM's element-wise weights) also overrides <see cref="CamImage"/> and
/// <see cref="WeightedActivations"/>.
/// </summary>
public abstract class CamMethod : IExplanationMethod
{
    public abstract string Name { get; }

    private bool _eigenSmooth;

    /// <summary>The values of the options the method declares, and eigen-smooth when it is on.</summary>
    public IReadOnlyDictionary<string, string> Settings => EigenSmooth
        ? DeclaredSettings.Concat(MethodSettings.Describe((CommonOptions.EigenSmooth, true))).ToDictionary() : DeclaredSettings;

    /// <summary>The values of the options the method declares in its own file (none by default).</summary>
    protected virtual IReadOnlyDictionary<string, string> DeclaredSettings { get; } = new Dictionary<string, string>();

    /// <summary>
    /// pytorch-grad-cam's eigen_smooth: the map is the first principal component of the weighted activations
    /// (<see cref="WeightedActivations"/>, centered on each channel's mean) instead of their sum, its sign fixed as
    /// <see cref="EigenProjection"/> says (pytorch-grad-cam leaves it to the SVD). Refused by a method whose map is a
    /// principal component already (Eigen-CAM, EigenGrad-CAM, where pytorch-grad-cam ignores it).
    /// </summary>
    public bool EigenSmooth
    {
        get => _eigenSmooth;
        init => SetEigenSmooth(value);
    }

    /// <summary>True when the map is a first principal component already, so that eigen smoothing does not apply.</summary>
    protected virtual bool MapIsPrincipalComponent => false;

    /// <summary>Sets <see cref="EigenSmooth"/> on a method the catalogue has just made from settings.</summary>
    internal void SetEigenSmooth(bool value)
    {
        if (value && MapIsPrincipalComponent)
            throw new ScoreCamException($"{Name}'s map is the first principal component already; eigen smoothing does not apply to it.");
        _eigenSmooth = value;
    }

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context) => Results(context, ChannelWeights(context));

    /// <summary>The maps of every target from its channel weights.</summary>
    protected IReadOnlyList<MethodResult> Results(ExplanationContext context, float[][] weights)
    {
        var results = new MethodResult[context.Targets.Count];
        for (int t = 0; t < results.Length; t++)
        {
            var map = new float[context.Height * context.Width];
            if (EigenSmooth)
            {
                var weighted = new float[context.Activations.Length];
                WeightedActivations(context, t, weights[t], weighted);
                EigenProjection.Project(weighted, EigenProjection.Direction(weighted, context.Channels, map.Length, centered: true), centered: true, map);
            }
            else CamImage(context, t, weights[t], map);
            MapKernels.Relu(map); // eq. 5
            results[t] = new MethodResult(new SaliencyMap(context.Width, context.Height, map), weights[t]);
        }
        return results;
    }

    /// <summary>Weights w[t][k] for each target t and channel k.</summary>
    protected abstract float[][] ChannelWeights(ExplanationContext context);

    /// <summary>The map of target <paramref name="target"/> before the final ReLU: Σ_k w_k A_k (paper eq. 5) by default.</summary>
    protected virtual void CamImage(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> map) =>
        MapKernels.WeightedSum(context.Activations, weights, map);

    /// <summary>The K terms whose sum is the map (K×h×w): w_k A_k by default.</summary>
    protected virtual void WeightedActivations(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> destination)
    {
        int plane = context.Height * context.Width;
        for (int k = 0; k < weights.Length; k++)
            System.Numerics.Tensors.TensorPrimitives.Multiply(context.ActivationMap(k), weights[k], destination.Slice(k * plane, plane));
    }
}
