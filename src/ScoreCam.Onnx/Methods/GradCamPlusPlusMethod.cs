namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Grad-CAM++ (Chattopadhay et al., the closed form that follows from an exponential score):
/// alpha_ij = g_ij² / (2g_ij² + Σ_ab A_ab · g_ij³), alpha = 0 where g = 0 (or the denominator vanishes),
/// w_k = Σ_ij alpha_ij · ReLU(g_ij).
/// </summary>
public sealed class GradCamPlusPlusMethod : GradientCamMethod
{
    /// <param name="epsilon">
    /// Added to alpha's denominator. 0 (the default) is the closed form; pytorch-grad-cam adds 1e-6, which dominates
    /// when gradients are below about 1e-3 (large class counts): pass 1e-6 to reproduce its numbers.
    /// </param>
    public GradCamPlusPlusMethod(double epsilon = 0)
    {
        if (epsilon < 0 || double.IsNaN(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), "Epsilon must be 0 or positive.");
        Epsilon = epsilon;
    }

    public double Epsilon { get; }

    public override string Name => "gradcam++";

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        int plane = context.Height * context.Width;
        var w = new float[context.Channels];
        for (int k = 0; k < w.Length; k++)
        {
            ReadOnlySpan<float> g = gradients.Slice(k * plane, plane);
            double sumA = System.Numerics.Tensors.TensorPrimitives.Sum(context.ActivationMap(k)), total = 0;
            for (int i = 0; i < plane; i++)
            {
                double gi = g[i], g2 = gi * gi, denominator = 2 * g2 + sumA * g2 * gi + Epsilon;
                if (gi == 0 || denominator == 0) continue;
                total += g2 / denominator * Math.Max(gi, 0);
            }
            w[k] = (float)total;
        }
        return w;
    }
}
