using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>
/// The pixel-space methods on the default model against PyTorch autograd (Gradients/Fixtures/make_default_input_reference.py:
/// vanilla gradient, Guided Backpropagation and Integrated Gradients with the zeros baseline, m = 32, right Riemann
/// sum, for the first fixture image and its top class). Agreement: max |a/max|a| − b/max|b||.
/// </summary>
public class DefaultModelAttributionTests
{
    private static string Fixture(string name) => Repository.Path("tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures", name);

    [TestCase("gradient", "fashion-clutter.gradient.npy")]
    [TestCase("guided-backprop", "fashion-clutter.guided-backprop.npy")]
    [TestCase("integrated-gradients", "fashion-clutter.integrated-gradients.npy")]
    public void Attributions_agree_with_PyTorch(string method, string fixture)
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Fixture("fashion-clutter.input-reference.json")));
        int c = reference.RootElement.GetProperty("class").GetInt32();
        float[] x = NpyFile.Read(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.input.npy")).Data[..(3 * 96 * 96)];
        using var explainer = CamExplainer.Open(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        Explanation e = explainer.Explain(new ImageTensor(x, 3, 96, 96), ExplanationTarget.Class(c), MethodCatalog.Create(method));
        float[] expected = NpyFile.Read(Fixture(fixture)).Data;
        float[] actual = e.Attribution!.Values;
        actual.Should().HaveSameCount(expected);
        double sa = actual.Max(v => Math.Abs((double)v)), sb = expected.Max(v => Math.Abs((double)v));
        double difference = actual.Zip(expected, (p, q) => Math.Abs(p / sa - q / sb)).Max();
        TestContext.Out.WriteLine($"{method}: max difference after /max = {difference:g3}");
        difference.Should().BeLessThanOrEqualTo(1e-3);
        if (method == "integrated-gradients")
        {
            double torchCompleteness = reference.RootElement.GetProperty("integrated_gradients").GetProperty("completeness_error").GetDouble();
            e.Extras!["completeness_error"].Should().BeApproximately(torchCompleteness, 1e-3, "the same sum over the same path");
            Math.Abs(e.Extras["completeness_error"]).Should().BeLessThan(0.01 * Math.Abs(e.Extras["score_difference"]), "IG is complete to 1% at m = 32 here");
        }
    }
}
