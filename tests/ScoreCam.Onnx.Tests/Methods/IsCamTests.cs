using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>IS-CAM against the PyTorch reference of its definition and of torch-cam's formula.</summary>
public class IsCamTests
{
    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Matches_the_reference_in_both_forms(string model)
    {
        int n = MethodReference.Parameter(model, "iscam");
        MethodReference.Check(model, "iscam/paper", new IsCamMethod(n));
        MethodReference.Check(model, "iscam/torch-cam", new IsCamMethod(n, CompatibilityVariant.TorchCam));
    }

    [Test]
    public void With_one_sample_it_is_Score_CAM()
    {
        string model = MethodReference.DefaultModel;
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(model));
        var target = ExplanationTarget.Class(MethodReference.Classes(model).First());
        explainer.Explain(MethodReference.Input(model), target, new IsCamMethod(1)).Map.Values
            .Should().Equal(explainer.Explain(MethodReference.Input(model), target, new ScoreCamMethod()).Map.Values, (a, b) => Math.Abs(a - b) <= 1e-6f * Math.Max(1f, Math.Abs(b)));
    }
}
