namespace ScoreCam.Onnx.Methods;

/// <summary>XGrad-CAM (Fu et al.): w_k = Σ_ij A_ij·g_ij / Σ_ij A_ij (0 for a channel whose activations sum to 0).</summary>
public sealed class XGradCamMethod : GradientCamMethod
{
    /// <param name="variant">
    /// <see cref="CompatibilityVariant.Paper"/>: the definition. <see cref="CompatibilityVariant.PytorchGradCam"/> adds 1e-7
    /// to Σ A, <see cref="CompatibilityVariant.TorchCam"/> 1e-8 (a channel summing to 0 then gets Σ A·g / ε).
    /// </param>
    public XGradCamMethod(CompatibilityVariant variant = CompatibilityVariant.Paper)
    {
        if (!Enum.IsDefined(variant)) throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown compatibility variant.");
        Variant = variant;
    }

    public CompatibilityVariant Variant { get; }

    public override string Name => "xgradcam";

    public static IReadOnlyList<MethodOption> Declared { get; } = [CommonOptions.Variant];

    public static XGradCamMethod From(MethodSettings s) => new(s.Get(CommonOptions.Variant));

    protected override IReadOnlyDictionary<string, string> DeclaredSettings => MethodSettings.Describe((CommonOptions.Variant, Variant));

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        int plane = context.Height * context.Width;
        float epsilon = Variant switch { CompatibilityVariant.PytorchGradCam => 1e-7f, CompatibilityVariant.TorchCam => 1e-8f, _ => 0f };
        var w = new float[context.Channels];
        for (int k = 0; k < w.Length; k++)
        {
            ReadOnlySpan<float> a = context.ActivationMap(k);
            float sum = System.Numerics.Tensors.TensorPrimitives.Sum(a) + epsilon;
            w[k] = sum == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.Dot(a, gradients.Slice(k * plane, plane)) / sum;
        }
        return w;
    }
}
