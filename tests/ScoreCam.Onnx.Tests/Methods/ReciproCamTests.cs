using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>Recipro-CAM against the PyTorch reference of its definition, plain and with the 3×3 Gaussian spread.</summary>
public class ReciproCamTests
{
    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Matches_the_reference_plain_and_Gaussian(string model)
    {
        MethodReference.Check(model, "reciprocam", new ReciproCamMethod());
        MethodReference.Check(model, "reciprocam/gaussian", new ReciproCamMethod(ReciproCamSpread.Gaussian));
    }

    [Test]
    public void Runs_one_tail_pass_per_position()
    {
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(MethodReference.DefaultModel));
        Explanation e = explainer.Explain(MethodReference.Input(MethodReference.DefaultModel), null, new ReciproCamMethod());
        e.ForwardPasses.Should().Be(1 + explainer.Model.Layer.Height * explainer.Model.Layer.Width);
    }
}
