using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>Group-CAM against the PyTorch reference of its definition (G = 32, 70th-percentile de-noising, blurred baseline).</summary>
public class GroupCamTests
{
    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Matches_the_reference(string model) => MethodReference.Check(model, "groupcam", new GroupCamMethod(32));

    [Test]
    public void Runs_one_pass_per_group_and_one_for_the_baseline()
    {
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(MethodReference.DefaultModel));
        Explanation e = explainer.Explain(MethodReference.Input(MethodReference.DefaultModel), null, new GroupCamMethod(8));
        (e.ForwardPasses + e.SkippedChannels).Should().Be(1 + 1 + 1 + 8, "the unmasked pass, the gradient pass, the baseline and 8 groups, run or left out as constant");
        (e.Heatmap.Width, e.Heatmap.Height).Should().Be((96, 96));
        FluentActions.Invoking(() => new GroupCamMethod(0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
