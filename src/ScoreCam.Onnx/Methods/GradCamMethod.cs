namespace ScoreCam.Onnx.Methods;

/// <summary>Grad-CAM (Selvaraju et al.): w_k = the spatial mean of dY/dA_k.</summary>
public sealed class GradCamMethod : GradientCamMethod
{
    public override string Name => "gradcam";

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        int plane = context.Height * context.Width;
        var w = new float[context.Channels];
        for (int k = 0; k < w.Length; k++)
            w[k] = System.Numerics.Tensors.TensorPrimitives.Sum(gradients.Slice(k * plane, plane)) / plane;
        return w;
    }
}
