using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>
/// SS-CAM against the PyTorch reference of its definition, which draws the same seeded noise (tools/methods/net_random.py
/// reproduces .NET's seeded Random and the Box–Muller draw), in both of the paper's placements and torch-cam's.
/// </summary>
public class SsCamTests
{
    private static SsCamMethod Method(string model, SsCamNoise noise, CompatibilityVariant variant = CompatibilityVariant.Paper) =>
        new(noise, MethodReference.Parameter(model, "sscam"), MethodReference.Number(model, "sscam_sigma"), seed: 0, variant);

    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Matches_the_reference_with_noise_on_the_masks_on_the_input_and_as_torch_cam_adds_it(string model)
    {
        MethodReference.Check(model, "sscam/masks", Method(model, SsCamNoise.Masks));
        MethodReference.Check(model, "sscam/input", Method(model, SsCamNoise.Input));
        MethodReference.Check(model, "sscam/torch-cam", Method(model, SsCamNoise.Masks, CompatibilityVariant.TorchCam));
    }

    [Test]
    public void Without_noise_it_is_Score_CAM()
    {
        string model = MethodReference.DefaultModel;
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(model));
        var target = ExplanationTarget.Class(MethodReference.Classes(model).First());
        Explanation score = explainer.Explain(MethodReference.Input(model), target, new ScoreCamMethod());
        Explanation smoothed = explainer.Explain(MethodReference.Input(model), target, new SsCamMethod(SsCamNoise.Masks, samples: 3, sigma: 0));
        smoothed.Map.Values.Should().Equal(score.Map.Values, (a, b) => Math.Abs(a - b) <= 1e-6f * Math.Max(1f, Math.Abs(b)));
        (smoothed.ForwardPasses - 1).Should().Be(3 * (score.ForwardPasses - 1), "N passes per channel beside the unmasked one");
    }

    [Test]
    public void Bad_options_are_refused()
    {
        FluentActions.Invoking(() => new SsCamMethod(samples: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SsCamMethod(sigma: -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SsCamMethod(SsCamNoise.Input, variant: CompatibilityVariant.TorchCam)).Should().Throw<ArgumentException>().WithMessage("*activations*");
    }
}
