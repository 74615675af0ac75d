using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>pytorch-grad-cam's eigen_smooth on CAM methods against the PyTorch reference (the weighted activations' first principal component).</summary>
public class EigenSmoothTests
{
    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Grad_CAM_and_LayerCAM_smoothed_match_the_reference(string model)
    {
        MethodReference.Check(model, "gradcam/eigen-smooth", new GradCamMethod { EigenSmooth = true });
        MethodReference.Check(model, "layercam/eigen-smooth", new LayerCamMethod { EigenSmooth = true });
    }
}
