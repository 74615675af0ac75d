using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// torchvision's vit_b_16 and swin_t (random weights, exported to tools/.cache/models by
/// tools/export/export_torchvision_transformers.py, 330 and 110 MB, not committed) against PyTorch: the automatic
/// layer is the last block's norm1, dY/dA at sampled positions by autograd with a hook there, Grad-CAM and Score-CAM
/// (plain loop over the 32 channels of largest spatial variance, as Score-CAM with 32 channels ranked by variance)
/// within 1e-3 of the maximum. Runs when the models have been exported.
/// </summary>
public class TorchvisionTransformerTests
{
    [TestCase("torchvision-vit_b_16")]
    [TestCase("torchvision-swin_t")]
    public void Gradients_Grad_CAM_and_Score_CAM_agree_with_PyTorch(string name)
    {
        string path = Repository.Path("tools", ".cache", "models", name + ".onnx");
        if (!File.Exists(path)) Assert.Ignore($"{name}.onnx is not exported (tools/export/export_torchvision_transformers.py).");
        JsonElement reference = JsonDocument.Parse(File.ReadAllText(
            Repository.Path("tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures", name + ".reference.json"))).RootElement;
        PreparedModel model = ModelPreparer.Prepare(path);
        model.Layer.TensorName.Should().Be(reference.GetProperty("layer").GetString());
        ImageTensor image = Support.Reference.SineInput(224);
        using var explainer = new CamExplainer(model);
        UnmaskedPass pass = explainer.Forward(image);
        double[] logits = reference.GetProperty("logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        pass.Scores.Select(v => (double)v).Should().Equal(logits, (a, b) => Math.Abs(a - b) <= 1e-3 * logits.Max(Math.Abs), "logits");

        foreach (JsonProperty target in reference.GetProperty("classes").EnumerateObject())
        {
            var c = ExplanationTarget.Class(int.Parse(target.Name));
            using var gradients = GradientSession.ForHead(model);
            var seed = new float[model.OutputSize];
            seed[int.Parse(target.Name)] = 1;
            float[] g = gradients.Run(image.Data, seed).Gradients;
            double scale = target.Value.GetProperty("gradient_max").GetDouble();
            var sampled = target.Value.GetProperty("gradient_at").EnumerateObject().ToList();
            TestContext.Out.WriteLine($"{name} dY_{target.Name}/dA: max difference {sampled.Max(p => Math.Abs(g[int.Parse(p.Name)] - p.Value.GetDouble())) / scale:E1} of the maximum");
            foreach (JsonProperty p in sampled)
                ((double)g[int.Parse(p.Name)]).Should().BeApproximately(p.Value.GetDouble(), 1e-3 * scale, $"dY_{target.Name}/dA at {p.Name}");

            foreach (var (method, key) in new (IExplanationMethod, string)[] { (new GradCamMethod(), "gradcam"), (new ScoreCamMethod(new ScoreCamOptions { MaxChannels = reference.GetProperty("score_channels").GetInt32() }), "scorecam") })
            {
                Explanation explanation = explainer.Explain(pass, c, method);
                double[] weights = target.Value.GetProperty(key + "_weights").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                explanation.ChannelWeights.Select(v => (double)v).Should().Equal(weights, (a, b) => Math.Abs(a - b) <= 1e-3 * weights.Max(Math.Abs), $"{key} weights");
                double[] map = target.Value.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
                double top = Math.Max(map.Max(), 1e-6);
                TestContext.Out.WriteLine($"{name} {key} of class {target.Name}: weights max difference " +
                    $"{explanation.ChannelWeights.Zip(weights, (a, b) => Math.Abs(a - b)).Max() / weights.Max(Math.Abs):E1}, map " +
                    $"{explanation.Map.Values.Zip(map, (a, b) => Math.Abs(a - b)).Max() / top:E1} of the maximum");
                explanation.Map.Values.Select(v => (double)v).Should().Equal(map, (a, b) => Math.Abs(a - b) <= 1e-3 * top, $"{key} map");
            }
        }
    }
}
