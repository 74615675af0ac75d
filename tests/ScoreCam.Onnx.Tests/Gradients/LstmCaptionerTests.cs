using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// A CNN encoder with an LSTM decoder that reads the fed previous words (Fixtures/lstm-captioner.onnx, random weights,
/// made with its PyTorch reference by tools/export/export_lstm_captioner.py): the ONNX LSTM is unrolled for the
/// gradients; Grad-CAM's weights and map for the next word and the input gradient dY/dx against PyTorch autograd,
/// within 1e-3 of the maximum.
/// </summary>
public class LstmCaptionerTests
{
    private static string Fixture(string file) => Repository.Path("tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures", file);

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static void ShouldMatch(IEnumerable<float> mine, double[] theirs, string what)
    {
        double scale = Math.Max(theirs.Max(Math.Abs), 1e-9);
        double[] values = mine.Select(v => (double)v).ToArray();
        TestContext.Out.WriteLine($"{what}: max difference {values.Zip(theirs, (a, b) => Math.Abs(a - b)).Max() / scale:E1} of the maximum");
        values.Should().Equal(theirs, (a, b) => Math.Abs(a - b) <= 1e-3 * scale, what);
    }

    [Test]
    public void Grad_CAM_and_the_input_gradient_through_the_LSTM_agree_with_PyTorch()
    {
        JsonElement reference = JsonDocument.Parse(File.ReadAllText(Fixture("lstm-captioner.reference.json"))).RootElement;
        PreparedModel model = ModelPreparer.Prepare(Fixture("lstm-captioner.onnx"), new ModelPreparationOptions
        {
            Feeds = new Dictionary<string, InputFeed> { ["tokens"] = InputFeed.Read(Fixture("lstm-captioner.tokens.npy")) },
        });
        model.Layer.TensorName.Should().Be(reference.GetProperty("layer").GetString());
        ImageTensor image = Support.Reference.SineInput(32);
        using var explainer = new CamExplainer(model);
        UnmaskedPass pass = explainer.Forward(image);
        ShouldMatch(pass.Scores, Doubles(reference.GetProperty("logits")), "logits");
        using var inputGradients = GradientSession.ForInput(model, 32, 32, guided: false);
        foreach (JsonProperty target in reference.GetProperty("classes").EnumerateObject())
        {
            int c = int.Parse(target.Name);
            Explanation gradCam = explainer.Explain(pass, ExplanationTarget.Class(c), new GradCamMethod());
            ShouldMatch(gradCam.ChannelWeights, Doubles(target.Value.GetProperty("gradcam_weights")), $"Grad-CAM weights of word {c}");
            ShouldMatch(gradCam.Map.Values, Doubles(target.Value.GetProperty("gradcam")), $"Grad-CAM of word {c}");
            var seed = new float[model.OutputSize];
            seed[c] = 1;
            ShouldMatch(inputGradients.Run(image.Data, seed).Gradients, Doubles(target.Value.GetProperty("input_gradient")), $"dY_{c}/dx");
        }
    }
}
