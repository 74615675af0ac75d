using System.Text.Json;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// The default model's input gradients against PyTorch autograd: Fixtures/make_default_input_reference.py rebuilt the
/// network in PyTorch with the committed ONNX weights and saved, for the first fixture image and its top class, the
/// vanilla gradient and Guided Backpropagation's result (3×96×96, float64 autograd stored as float32). Agreement is
/// the maximum absolute difference after dividing each by its largest magnitude.
/// </summary>
public class DefaultModelReferenceTests
{
    private static string Fixture(string name) => Repository.Path("tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures", name);

    [TestCase(false, "fashion-clutter.gradient.npy")]
    [TestCase(true, "fashion-clutter.guided-backprop.npy")]
    public void Input_gradients_agree_with_PyTorch_autograd(bool guided, string fixture)
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Fixture("fashion-clutter.input-reference.json")));
        int c = reference.RootElement.GetProperty("class").GetInt32();
        double[] torchLogits = reference.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        PreparedModel model = ModelPreparer.Prepare(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        float[] x = NpyFile.Read(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.input.npy")).Data[..(3 * 96 * 96)];
        float[] expected = NpyFile.Read(Fixture(fixture)).Data;
        var seed = new float[model.OutputSize];
        seed[c] = 1;

        using var session = GradientSession.ForInput(model, 96, 96, guided);
        var (logits, gradient) = session.Run(x, seed);

        logits.Select(v => (double)v).Should().Equal(torchLogits, (a, b) => Math.Abs(a - b) <= 1e-4);
        double difference = MaxDifferenceOfNormalized(gradient, expected);
        TestContext.Out.WriteLine($"max |ours/max − PyTorch/max| = {difference:g3}");
        difference.Should().BeLessThanOrEqualTo(1e-3);
    }

    [Test]
    public void Guided_backpropagation_is_not_the_vanilla_gradient_here()
    {
        float[] vanilla = NpyFile.Read(Fixture("fashion-clutter.gradient.npy")).Data, guided = NpyFile.Read(Fixture("fashion-clutter.guided-backprop.npy")).Data;
        MaxDifferenceOfNormalized(vanilla, guided).Should().BeGreaterThan(0.1, "the comparison above tells the two rules apart");
    }

    private static double MaxDifferenceOfNormalized(float[] a, float[] b)
    {
        a.Should().HaveSameCount(b);
        double sa = a.Max(v => Math.Abs((double)v)), sb = b.Max(v => Math.Abs((double)v));
        return a.Zip(b, (p, q) => Math.Abs(p / sa - q / sb)).Max();
    }
}
