using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>Ablation-CAM against the PyTorch reference of its definition, w_k = (y_c − y_c^k) / y_c through the model's tail.</summary>
public class AblationCamTests
{
    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Matches_the_reference_in_both_forms(string model)
    {
        // Both layers follow a ReLU (minimum 0), where pytorch-grad-cam's ablation value is the paper's 0.
        MethodReference.Check(model, "ablationcam", new AblationCamMethod());
        MethodReference.Check(model, "ablationcam", new AblationCamMethod(CompatibilityVariant.PytorchGradCam));
    }

    [Test]
    public void Runs_one_tail_pass_per_channel()
    {
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(MethodReference.DefaultModel));
        Explanation e = explainer.Explain(MethodReference.Input(MethodReference.DefaultModel), null, new AblationCamMethod());
        e.ForwardPasses.Should().Be(1 + explainer.Model.Layer.Channels);
    }
}
