using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>Eigen-CAM and EigenGrad-CAM against the PyTorch reference (numpy's SVD, the sign fixed by |min| &gt; |max|).</summary>
public class EigenCamTests
{
    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Eigen_CAM_matches_the_reference_in_both_forms(string model)
    {
        MethodReference.Check(model, "eigencam/paper", new EigenCamMethod());
        MethodReference.Check(model, "eigencam/pytorch-grad-cam", new EigenCamMethod(CompatibilityVariant.PytorchGradCam));
    }

    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void EigenGrad_CAM_matches_the_reference(string model) => MethodReference.Check(model, "eigengradcam", new EigenGradCamMethod());

    [Test]
    public void Eigen_CAM_gives_every_class_the_same_map()
    {
        string model = MethodReference.DefaultModel;
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(model));
        int[] classes = MethodReference.Classes(model).ToArray();
        Explanation e = explainer.Explain(MethodReference.Input(model), ExplanationTarget.Class(classes[0]), new EigenCamMethod());
        Explanation other = explainer.Explain(MethodReference.Input(model), ExplanationTarget.Class(classes[1]), new EigenCamMethod());
        other.Map.Values.Should().Equal(e.Map.Values);
    }

    [Test]
    public void The_torch_cam_variant_is_refused_as_it_has_no_Eigen_CAM() =>
        FluentActions.Invoking(() => new EigenCamMethod(CompatibilityVariant.TorchCam)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*torch-cam has none*");
}
