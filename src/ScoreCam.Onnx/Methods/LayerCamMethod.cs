using System.Runtime.CompilerServices;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// LayerCAM (Jiang et al.): an element-wise map L = ReLU(Σ_k ReLU(g_k) ⊙ A_k), not a channel-weighted sum, so it
/// overrides <see cref="CamMethod.CombineMaps"/>. The reported channel weights are the spatial means of ReLU(g_k).
/// </summary>
public sealed class LayerCamMethod : GradientCamMethod
{
    private readonly ConditionalWeakTable<CamContext, float[][]> _gradients = new();

    public override string Name => "layercam";

    protected override float[] Weights(CamContext context, ReadOnlySpan<float> gradients)
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

    protected override void Remember(CamContext context, float[][] gradients) => _gradients.AddOrUpdate(context, gradients);

    public override void CombineMaps(CamContext context, int target, ReadOnlySpan<float> weights, Span<float> map)
    {
        if (!_gradients.TryGetValue(context, out float[][]? gradients))
            throw new InvalidOperationException("LayerCAM combines maps only after computing its channel weights for the same context.");
        Map(context.Activations, gradients[target], context.Channels, map);
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
