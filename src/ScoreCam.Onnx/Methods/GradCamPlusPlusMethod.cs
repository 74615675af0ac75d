namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Grad-CAM++ (Chattopadhay et al., the closed form that follows from an exponential score):
/// alpha_ij = g_ij² / (2g_ij² + Σ_ab A_ab · g_ij³), alpha = 0 where g = 0 (or the denominator vanishes),
/// w_k = Σ_ij alpha_ij · ReLU(g_ij).
/// </summary>
public sealed class GradCamPlusPlusMethod : GradientCamMethod
{
    /// <summary>What pytorch-grad-cam adds to alpha's denominator; it dominates when gradients are below about 1e-3 (large class counts).</summary>
    public const double PytorchGradCamEpsilon = 1e-6;

    /// <param name="variant">
    /// <see cref="CompatibilityVariant.Paper"/>: the closed form. <see cref="CompatibilityVariant.PytorchGradCam"/>: 1e-6
    /// added to alpha's denominator. <see cref="CompatibilityVariant.TorchCam"/>: alpha = g² (torch-cam divides a
    /// copy made by boolean indexing in place, so its division never reaches alpha), w_k = Σ_ij g_ij² · ReLU(g_ij).
    /// </param>
    public GradCamPlusPlusMethod(CompatibilityVariant variant = CompatibilityVariant.Paper)
    {
        if (!Enum.IsDefined(variant)) throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown compatibility variant.");
        Variant = variant;
    }

    public CompatibilityVariant Variant { get; }

    public override string Name => "gradcam++";

    public static IReadOnlyList<MethodOption> Declared { get; } = [CommonOptions.Variant];

    public static GradCamPlusPlusMethod From(MethodSettings s) => new(s.Get(CommonOptions.Variant));

    protected override IReadOnlyDictionary<string, string> DeclaredSettings => MethodSettings.Describe((CommonOptions.Variant, Variant));

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        int plane = context.Height * context.Width;
        double epsilon = Variant == CompatibilityVariant.PytorchGradCam ? PytorchGradCamEpsilon : 0;
        var w = new float[context.Channels];
        for (int k = 0; k < w.Length; k++)
        {
            ReadOnlySpan<float> g = gradients.Slice(k * plane, plane);
            double sumA = System.Numerics.Tensors.TensorPrimitives.Sum(context.ActivationMap(k)), total = 0;
            for (int i = 0; i < plane; i++)
            {
                double gi = g[i], g2 = gi * gi;
                if (gi <= 0) continue; // ReLU(g) = 0, and alpha = 0 where g = 0
                if (Variant == CompatibilityVariant.TorchCam) { total += g2 * gi; continue; }
                double denominator = 2 * g2 + sumA * g2 * gi + epsilon;
                if (denominator != 0) total += g2 / denominator * gi;
            }
            w[k] = (float)total;
        }
        return w;
    }
}
