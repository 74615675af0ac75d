using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Targets;

/// <summary>
/// The trained tiny ViT (onnx-models/tiny-vit, torchvision's VisionTransformer) against the independent PyTorch
/// references of tools/export/make_tiny_references.py (Fixtures/tiny-vit.json): Grad-CAM by autograd and a plain
/// Score-CAM loop at the last block's ln_1 tokens (class token dropped, the 8×8 patch grid) for the two most probable
/// classes, within 1e-3 after dividing by their maximum, and the input gradient; the automatic layer choice finds
/// those tokens.
/// </summary>
public class TinyVitReferenceTests
{
    private const string Model = "tiny-vit";
    private static readonly string Fixtures = Repository.Path("tests", "ScoreCam.Onnx.Tests", "Targets", "Fixtures");
    private static readonly Lazy<JsonElement> Fixture = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "tiny-vit.json"))).RootElement);
    private static readonly Lazy<ImageTensor> Input = new(() => NpyFile.ReadImageTensor(Repository.Path("onnx-models", Model, "sample.input.npy")));

    private static CamExplainer Open(string? layer = null) => CamExplainer.Open(Repository.Path("onnx-models", Model, $"{Model}.onnx"),
        new ExplainerOptions { Preparation = new ModelPreparationOptions { Layer = layer } });

    private static string Layer => Fixture.Value.GetProperty("layer").GetProperty("name").GetString()!;

    private static float[] OverMax(IEnumerable<float> values)
    {
        float[] v = values.ToArray();
        float max = v.Max();
        return max == 0 ? v : v.Select(x => x / max).ToArray();
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    [TestCase(0)]
    [TestCase(1)]
    public void Grad_CAM_and_Score_CAM_at_the_last_blocks_tokens_match_the_pytorch_reference(int i)
    {
        JsonElement c = Fixture.Value.GetProperty("cases")[i];
        using CamExplainer explainer = Open(Layer);
        var target = ExplanationTarget.Class(c.GetProperty("class").GetInt32());
        Explanation grad = explainer.Explain(Input.Value, target, new GradCamMethod());
        grad.Target.Score.Should().BeApproximately(c.GetProperty("probability").GetSingle(), 1e-4f);
        (grad.Map.Height, grad.Map.Width).Should().Be((8, 8));
        OverMax(grad.Map.Values).Should().Equal(OverMax(Floats(c.GetProperty("gradcam"))), (a, b) => Math.Abs(a - b) <= 1e-3f, "Grad-CAM");
        Explanation score = explainer.Explain(Input.Value, target, new ScoreCamMethod());
        OverMax(score.Map.Values).Should().Equal(OverMax(Floats(c.GetProperty("scorecam"))), (a, b) => Math.Abs(a - b) <= 1e-3f, "Score-CAM");
    }

    [Test]
    public void The_automatic_layer_is_the_last_blocks_normalised_tokens()
    {
        using CamExplainer explainer = Open();
        Explanation e = explainer.Explain(Input.Value, ExplanationTarget.TopPrediction, new GradCamMethod());
        e.Layer.TensorName.Should().Be(Layer);
        e.Layer.Channels.Should().Be(Fixture.Value.GetProperty("layer").GetProperty("shape")[0].GetInt32());
    }

    [Test]
    public void The_input_gradient_matches_the_pytorch_reference()
    {
        using CamExplainer explainer = Open(Layer);
        var target = ExplanationTarget.Class(Fixture.Value.GetProperty("cases")[0].GetProperty("class").GetInt32());
        Explanation e = explainer.Explain(Input.Value, target, new VanillaGradientMethod());
        var (expected, _) = NpyFile.Read(Path.Combine(Fixtures, Fixture.Value.GetProperty("input_gradient").GetString()!));
        float scale = expected.Max(Math.Abs);
        e.Attribution!.Values.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-3f * scale);
    }
}
