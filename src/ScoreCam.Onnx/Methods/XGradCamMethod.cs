namespace ScoreCam.Onnx.Methods;

/// <summary>XGrad-CAM (Fu et al.): w_k = Σ_ij A_ij·g_ij / Σ_ij A_ij (0 for a channel whose activations sum to 0).</summary>
public sealed class XGradCamMethod : GradientCamMethod
{
    public override string Name => "xgradcam";

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        int plane = context.Height * context.Width;
        var w = new float[context.Channels];
        for (int k = 0; k < w.Length; k++)
        {
            ReadOnlySpan<float> a = context.ActivationMap(k);
            float sum = System.Numerics.Tensors.TensorPrimitives.Sum(a);
            w[k] = sum == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.Dot(a, gradients.Slice(k * plane, plane)) / sum;
        }
        return w;
    }
}
