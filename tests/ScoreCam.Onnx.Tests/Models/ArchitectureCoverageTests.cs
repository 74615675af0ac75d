using System.Text.Json;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>
/// The slim torchvision families of onnx-models/coverage (tools/export/export_coverage.py): the automatic target
/// layer is the one the manifest names, both export forms prepare, ONNX Runtime reproduces PyTorch's outputs, and
/// Score-CAM returns a finite, non-constant map.
/// </summary>
public class ArchitectureCoverageTests
{
    public static IEnumerable<TestCaseData> Families()
    {
        string manifest = Repository.Path("onnx-models", "coverage", "coverage.json");
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(manifest));
        foreach (JsonElement m in doc.RootElement.EnumerateArray())
            yield return new TestCaseData(m.GetProperty("name").GetString(), m.GetProperty("expected_target_layer").GetString(),
                m.GetProperty("target_layer_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray()).SetArgDisplayNames(m.GetProperty("name").GetString()!);
    }

    private static string File(string name) => Repository.Path("onnx-models", "coverage", name);

    [TestCaseSource(nameof(Families))]
    public void The_automatic_target_layer_is_the_expected_one(string family, string expectedLayer, long[] shape)
    {
        PreparedModel m = ModelPreparer.Prepare(File($"{family}.onnx"));
        m.Layer.TensorName.Should().Be(expectedLayer);
        new long[] { 1, m.Layer.Channels, m.Layer.Height, m.Layer.Width }.Should().Equal(shape);
    }

    [TestCaseSource(nameof(Families))]
    public void The_export_with_activations_is_used_as_it_is(string family, string _, long[] shape)
    {
        PreparedModel m = ModelPreparer.Prepare(File($"{family}.act.onnx"));
        m.Layer.TensorName.Should().Be("activations");
        new long[] { 1, m.Layer.Channels, m.Layer.Height, m.Layer.Width }.Should().Equal(shape);
    }

    [TestCaseSource(nameof(Families))]
    public void Onnx_runtime_reproduces_pytorch_and_score_cam_gives_a_finite_non_constant_map(string family, string _, long[] __)
    {
        var (input, inputShape) = NpyFile.Read(File($"{family}.input.npy"));
        var (logits, _) = NpyFile.Read(File($"{family}.logits.npy"));
        var (activations, _) = NpyFile.Read(File($"{family}.activations.npy"));
        int imageLength = inputShape[1] * inputShape[2] * inputShape[3];
        var first = new ImageTensor(input[..imageLength], inputShape[1], inputShape[2], inputShape[3]);

        using var explainer = new CamExplainer(ModelPreparer.Prepare(File($"{family}.onnx")));
        var (scores, acts, _, _, _) = explainer.Session.Forward(first);
        AssertClose(scores, logits[..scores.Length], "logits");
        AssertClose(acts, activations[..acts.Length], "activations");

        Explanation e = explainer.Explain(first);
        e.Map.Values.Should().OnlyContain(v => float.IsFinite(v));
        e.Map.Values.Max().Should().BeGreaterThan(e.Map.Values.Min(), "the map must not be constant");
        e.ChannelWeights.Should().OnlyContain(w => w >= 0f && w <= 1f);
    }

    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        float scale = Math.Max(1e-3f, expected.Max(Math.Abs));
        for (int i = 0; i < actual.Length; i++)
            Math.Abs(actual[i] - expected[i]).Should().BeLessThan(1e-3f * scale + 1e-5f, $"{what}[{i}] must match PyTorch");
    }
}
