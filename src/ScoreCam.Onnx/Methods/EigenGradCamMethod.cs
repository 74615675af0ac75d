using System.Numerics.Tensors;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// EigenGrad-CAM (pytorch-grad-cam's eigen_grad_cam.py; it has no paper): Eigen-CAM's projection of the element-wise
/// products dY/dA_k ⊙ A_k, centered on each channel's mean as its get_2d_projection centers them, sign fixed as
/// <see cref="EigenProjection"/> says. The reported channel weights are the principal direction.
/// </summary>
public sealed class EigenGradCamMethod : GradientCamMethod
{
    public override string Name => "eigengradcam";

    protected override bool MapIsPrincipalComponent => true;

    protected override float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients) =>
        EigenProjection.Direction(Products(context, gradients), context.Channels, context.Height * context.Width, centered: true);

    protected override void CamImage(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> map) =>
        EigenProjection.Project(Products(context, context.HeadGradients(target)), weights, centered: true, map);

    private static float[] Products(ExplanationContext context, ReadOnlySpan<float> gradients)
    {
        var products = new float[context.Activations.Length];
        TensorPrimitives.Multiply(context.Activations, gradients, products);
        return products;
    }
}
