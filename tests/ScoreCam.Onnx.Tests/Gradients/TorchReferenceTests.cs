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

    /// <summary>x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i) over the flat 1×3×224×224 index, as the script.</summary>
    private static ImageTensor Input()
    {
        var data = new float[3 * 224 * 224];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(2 * Math.Sin(0.001 * i) + 0.5 * Math.Cos(0.0173 * i));
        return new ImageTensor(data, 3, 224, 224);
    }

    private static float[] Normalized(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        double min = v.Min(), max = v.Max();
        return v.Select(x => (float)((x - min) / (max - min))).ToArray();
    }

    [Test]
    public void Gradients_and_maps_agree_with_PyTorch_autograd()
    {
        if (!File.Exists(ModelPath)) Assert.Ignore("torchvision-resnet18.onnx is not fetched (tools/export/fetch_realistic.sh).");
        JsonElement reference = Reference();
        PreparedModel model = ModelPreparer.Prepare(ModelPath);
        model.Layer.TensorName.Should().Be("/layer4/layer4.1/relu_1/Relu_output_0");
        ImageTensor image = Input();
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

            float[] mine = Normalized(explainer.Explain(image, ExplanationTarget.Class(c), gradCam).Map.Values.Select(v => (double)v));
            float[] theirs = Normalized(target.Value.GetProperty("gradcam").EnumerateArray().Select(e => e.GetDouble()));
            mine.Should().Equal(theirs, (a, b) => Math.Abs(a - b) <= 1e-3f, $"Grad-CAM of class {c}");

            mine = Normalized(explainer.Explain(image, ExplanationTarget.Class(c), gradCamPlusPlus).Map.Values.Select(v => (double)v));
            theirs = Normalized(target.Value.GetProperty("gradcampp").EnumerateArray().Select(e => e.GetDouble()));
            mine.Should().Equal(theirs, (a, b) => Math.Abs(a - b) <= 1e-3f, $"Grad-CAM++ of class {c}");
        }
    }
}
