using System.Numerics.Tensors;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// HiResCAM (Draelos and Carin 2020, eq. 4): L = ReLU(Σ_k dY/dA_k ⊙ A_k), the gradients multiplied element-wise
/// instead of averaged over space, so the map is a sum of the score's first-order terms at each position. The reported
/// channel weights are the spatial means of dY/dA_k (Grad-CAM's). pytorch-grad-cam and the paper agree.
/// </summary>
public sealed class HiResCamMethod : GradientCamMethod
{
    public override string Name => "hirescam";

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        int plane = context.Height * context.Width;
        var w = new float[context.Channels];
        for (int k = 0; k < w.Length; k++) w[k] = TensorPrimitives.Sum(gradients.Slice(k * plane, plane)) / plane;
        return w;
    }

    protected override void CamImage(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> map)
    {
        ReadOnlySpan<float> gradients = context.HeadGradients(target);
        int plane = map.Length;
        map.Clear();
        for (int k = 0; k < context.Channels; k++)
            TensorPrimitives.MultiplyAdd(context.ActivationMap(k), gradients.Slice(k * plane, plane), map, map);
    }

    protected override void WeightedActivations(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> destination) =>
        TensorPrimitives.Multiply(context.Activations, context.HeadGradients(target), destination);
}
