using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Targets;

/// <summary>
/// The detection target on the trained tiny detector (onnx-models/tiny-detector, ultralytics v8 raw output [1, 14, 180])
/// against the independent PyTorch references of tools/export/make_tiny_references.py (Fixtures/tiny-detector.json):
/// D-RISE's similarity and the box score on the unmasked and four masked outputs, D-RISE's derivative with respect to
/// the output, Grad-CAM by autograd and a plain Score-CAM loop at the stride-8 features, and the input gradient; for
/// the model's own detection on the sample and for the sample's two items as given boxes and classes.
/// </summary>
public class TinyDetectorReferenceTests
{
    private const string Model = "tiny-detector";
    private static readonly string Fixtures = Repository.Path("tests", "ScoreCam.Onnx.Tests", "Targets", "Fixtures");
    private static readonly Lazy<JsonElement> Fixture = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "tiny-detector.json"))).RootElement);
    private static readonly Lazy<ImageTensor> Input = new(() => NpyFile.ReadImageTensor(Repository.Path("onnx-models", Model, "sample.input.npy")));

    public static IEnumerable<TestCaseData> References()
    {
        var fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "tiny-detector.json"))).RootElement;
        int i = 0;
        foreach (JsonElement r in fixture.GetProperty("references").EnumerateArray())
            yield return new TestCaseData(i++).SetArgDisplayNames($"{r.GetProperty("source").GetString()} class {r.GetProperty("class").GetInt32()}");
    }

    private static JsonElement Reference(int i) => Fixture.Value.GetProperty("references")[i];

    private static DetectionTarget Target(JsonElement r)
    {
        float[] b = r.GetProperty("box").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        return new DetectionTarget(new(b[0], b[1], b[2], b[3]), r.GetProperty("class").GetInt32());
    }

    private static CamExplainer Open() => CamExplainer.Open(Repository.Path("onnx-models", Model, $"{Model}.onnx"),
        new ExplainerOptions { Preparation = new ModelPreparationOptions { Layer = Fixture.Value.GetProperty("layer").GetProperty("name").GetString() } });

    private static float[] OverMax(IEnumerable<float> values)
    {
        float[] v = values.ToArray();
        float max = v.Max();
        return max == 0 ? v : v.Select(x => x / max).ToArray();
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    [TestCaseSource(nameof(References))]
    public void D_RISE_and_the_box_score_and_the_derivative_match_the_pytorch_reference(int i)
    {
        JsonElement r = Reference(i);
        var (outputs, shape) = NpyFile.Read(Path.Combine(Fixtures, Fixture.Value.GetProperty("outputs").GetString()!));
        using CamExplainer explainer = Open();
        int size = shape[1] * shape[2];
        var model = new TargetModel(explainer.Model, explainer.Labels, outputs[..size]);
        ResolvedTarget drise = Target(r).Resolve(model);
        ResolvedTarget boxScore = (Target(r) with { Scoring = DetectionScoring.BoxScore, Confidence = 0 }).Resolve(model);
        float[] expectedDrise = Floats(r.GetProperty("drise")), expectedBox = Floats(r.GetProperty("box_score"));
        for (int n = 0; n < shape[0]; n++)
        {
            var item = new TargetOutputs("output0", outputs.AsSpan(n * size, size), new[] { shape[1], shape[2] }, default);
            drise.Score(item, ScoreMode.RawScore).Should().BeApproximately(expectedDrise[n], 1e-5f, $"D-RISE on output {n}");
            boxScore.Score(item, ScoreMode.RawScore).Should().BeApproximately(expectedBox[n], 1e-5f, $"box score on output {n}");
        }
        var seed = new float[size];
        drise.Derivative(new TargetOutputs("output0", outputs.AsSpan(0, size), new[] { shape[1], shape[2] }, default), seed);
        var expected = new float[size];
        foreach (JsonProperty p in r.GetProperty("drise_seed_nonzero").EnumerateObject()) expected[int.Parse(p.Name)] = p.Value.GetSingle();
        seed.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-4f * Math.Max(1, Math.Abs(b)));
    }

    [TestCaseSource(nameof(References))]
    public void Grad_CAM_and_Score_CAM_with_the_detection_target_match_the_pytorch_reference(int i)
    {
        JsonElement r = Reference(i);
        using CamExplainer explainer = Open();
        Explanation grad = explainer.Explain(Input.Value, Target(r), new GradCamMethod());
        OverMax(grad.Map.Values).Should().Equal(OverMax(Floats(r.GetProperty("gradcam"))), (a, b) => Math.Abs(a - b) <= 1e-3f, "Grad-CAM");
        Explanation score = explainer.Explain(Input.Value, Target(r), new ScoreCamMethod());
        OverMax(score.Map.Values).Should().Equal(OverMax(Floats(r.GetProperty("scorecam"))), (a, b) => Math.Abs(a - b) <= 1e-3f, "Score-CAM");
    }

    [Test]
    public void The_input_gradient_matches_the_pytorch_reference()
    {
        using CamExplainer explainer = Open();
        Explanation e = explainer.Explain(Input.Value, Target(Reference(0)), new VanillaGradientMethod());
        var (expected, _) = NpyFile.Read(Path.Combine(Fixtures, Fixture.Value.GetProperty("input_gradient").GetString()!));
        float scale = expected.Max(Math.Abs);
        e.Attribution!.Values.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-3f * scale);
    }
}
