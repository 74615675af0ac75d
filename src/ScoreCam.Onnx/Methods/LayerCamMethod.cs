namespace ScoreCam.Onnx.Methods;

/// <summary>
/// LayerCAM (Jiang et al.): an element-wise map L = ReLU(Σ_k ReLU(g_k) ⊙ A_k), not a channel-weighted sum, so it
/// overrides <see cref="CamMethod.CamImage"/>. The reported channel weights are the spatial means of ReLU(g_k).
/// </summary>
public sealed class LayerCamMethod : GradientCamMethod
{
    public override string Name => "layercam";

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        int plane = context.Height * context.Width;
        var w = new float[context.Channels];
        for (int k = 0; k < w.Length; k++)
        {
            double sum = 0;
            foreach (float g in gradients.Slice(k * plane, plane)) sum += Math.Max(g, 0f);
            w[k] = (float)(sum / plane);
        }
        return w;
    }

    protected override void CamImage(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> map) =>
        Map(context.Activations, context.HeadGradients(target), context.Channels, map);

    protected override void WeightedActivations(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> destination)
    {
        System.Numerics.Tensors.TensorPrimitives.Max(context.HeadGradients(target), 0f, destination);
        System.Numerics.Tensors.TensorPrimitives.Multiply(destination, context.Activations, destination);
    }

    /// <summary>Σ_k ReLU(g_k) ⊙ A_k over K planes (before the final ReLU).</summary>
    internal static void Map(ReadOnlySpan<float> activations, ReadOnlySpan<float> gradients, int channels, Span<float> map)
    {
        int plane = map.Length;
        map.Clear();
        for (int k = 0; k < channels; k++)
        {
            ReadOnlySpan<float> a = activations.Slice(k * plane, plane), g = gradients.Slice(k * plane, plane);
            for (int i = 0; i < plane; i++) map[i] += Math.Max(g[i], 0f) * a[i];
        }
    }
}
