using System.Text.Json;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Gradients and Grad-CAM / Grad-CAM++ maps on torchvision's ResNet-18 (random weights, the model that
/// tools/export/export_realistic.py writes to tools/.cache/models) against PyTorch autograd: the reference in
/// Fixtures/torchvision-resnet18.reference.json was made by Fixtures/make_torchvision_reference.py. Runs when the
/// model has been fetched (it is 45 MB and not committed).
/// </summary>
public class TorchReferenceTests
{
    private static string ModelPath => Repository.Path("tools", ".cache", "models", "torchvision-resnet18.onnx");

    private static JsonElement Reference()
    {
        string path = Repository.Path("tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures", "torchvision-resnet18.reference.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    [Test]
    public void Gradients_and_maps_agree_with_PyTorch_autograd()
    {
        if (!File.Exists(ModelPath)) Assert.Ignore("torchvision-resnet18.onnx is not fetched (tools/export/fetch_realistic.sh).");
        JsonElement reference = Reference();
        PreparedModel model = ModelPreparer.Prepare(ModelPath);
        model.Layer.TensorName.Should().Be("/layer4/layer4.1/relu_1/Relu_output_0");
        ImageTensor image = Support.Reference.SineInput();
        using var session = new global::ScoreCam.Onnx.Inference.ModelSession(model);
        var (scores, activations, _, _, _) = session.Forward(image);
        double[] torchLogits = reference.GetProperty("logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        scores.Select(s => (double)s).Should().Equal(torchLogits, (a, b) => Math.Abs(a - b) <= 1e-3 * (1 + Math.Abs(b)), "the ONNX file holds the script's weights");

        using var gradients = new GradientSession(model);
        var gradCam = new GradCamMethod();
        var gradCamPlusPlus = new GradCamPlusPlusMethod();
        using var explainer = new CamExplainer(model);
        foreach (JsonProperty target in reference.GetProperty("classes").EnumerateObject())
        {
            int c = int.Parse(target.Name);
            var seed = new float[model.OutputSize];
            seed[c] = 1;
            float[] g = gradients.Run(activations, seed).Gradients;
            double scale = g.Max(v => Math.Abs(v));
            foreach (JsonProperty p in target.Value.GetProperty("gradient").EnumerateObject())
                g[int.Parse(p.Name)].Should().BeApproximately((float)p.Value.GetDouble(), (float)(1e-3 * scale), $"dY_{c}/dA at {p.Name}");

            double[] mine = Support.Reference.MinMax(explainer.Explain(image, ExplanationTarget.Class(c), gradCam).Map.Values.Select(v => (double)v));
            double[] theirs = Support.Reference.MinMax(target.Value.GetProperty("gradcam").EnumerateArray().Select(e => e.GetDouble()));
            mine.Should().Equal(theirs, (a, b) => Math.Abs(a - b) <= 1e-3, $"Grad-CAM of class {c}");

            mine = Support.Reference.MinMax(explainer.Explain(image, ExplanationTarget.Class(c), gradCamPlusPlus).Map.Values.Select(v => (double)v));
            theirs = Support.Reference.MinMax(target.Value.GetProperty("gradcampp").EnumerateArray().Select(e => e.GetDouble()));
            mine.Should().Equal(theirs, (a, b) => Math.Abs(a - b) <= 1e-3, $"Grad-CAM++ of class {c}");
        }
    }
}
