using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Experiments;

/// <summary>
/// FGSM and the counterfactual explanation against an independent PyTorch implementation of their definitions
/// (tools/experiments/make_reference.py), on the early checkpoint, a model the default model's tests never see.
/// </summary>
[Parallelizable(ParallelScope.None)]
public class TorchReferenceTests
{
    private static readonly string Folder = Repository.Path("tests", "ScoreCam.Onnx.Tests", "Experiments", "TorchReference");
    private static CamExplainer _explainer = null!;
    private static JsonElement _reference;

    [OneTimeSetUp]
    public static void Open()
    {
        _reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference.json"))).RootElement;
        _explainer = CamExplainer.Open(Repository.Path(_reference.GetProperty("model").GetString()!));
    }

    [OneTimeTearDown]
    public static void Close() => _explainer.Dispose();

    public static IEnumerable<TestCaseData> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference.json")));
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return new TestCaseData(c.GetProperty("file").GetString()).SetArgDisplayNames(c.GetProperty("file").GetString()!);
    }

    private static JsonElement Case(string file) =>
        _reference.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("file").GetString() == file);

    private static ImageTensor Input(string file)
    {
        using var picture = _explainer.LoadImage(Repository.Path(_reference.GetProperty("set").GetString()!, file));
        return _explainer.Preprocess(picture);
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    [TestCaseSource(nameof(Cases))]
    public void Fgsm_gives_the_reference_adversarial_tensor_and_prediction(string file)
    {
        JsonElement c = Case(file);
        ImageTensor input = Input(file);
        float[] clean = Floats(c.GetProperty("probabilities")), probabilities = _explainer.Probabilities(input);
        for (int k = 0; k < clean.Length; k++) probabilities[k].Should().BeApproximately(clean[k], 1e-4f, "the clean input is the reference's");
        foreach (JsonElement attack in c.GetProperty("fgsm").EnumerateArray())
        {
            string name = attack.GetProperty("epsilon").GetString()!;
            float epsilon = name.Split('/') is [var a, var b] ? float.Parse(a) / float.Parse(b) : float.Parse(name);
            int target = attack.GetProperty("target").GetInt32();
            AdversarialExample adversarial = Fgsm.Attack(_explainer, input, epsilon, ExplanationTarget.Class(target));

            float[] expected = NpyFile.Read(Path.Combine(Folder, attack.GetProperty("tensor").GetString()!)).Data;
            // Where the reference's |∂L/∂p| is below 1e-5 of its largest value the sign is rounding noise in either implementation.
            var noise = attack.GetProperty("tiny_gradients").EnumerateArray().Select(v => v.GetInt32()).ToHashSet();
            float step = epsilon / 0.224f; // one step in input units, for the widest std
            int mismatched = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                float d = Math.Abs(adversarial.Input.Data[i] - expected[i]);
                if (noise.Contains(i)) d.Should().BeLessThanOrEqualTo(2.1f * step, $"value {i} moves by at most one step either way");
                else if (d > 1e-4f) mismatched++;
            }
            mismatched.Should().Be(0, $"{file} ε = {name}: every pixel with a clear gradient sign steps as the reference's");
            adversarial.After.Index.Should().Be(attack.GetProperty("predicted_after").GetInt32(), $"{file} ε = {name}");
            float[] after = Floats(attack.GetProperty("probabilities_after"));
            adversarial.TargetAfter.Should().BeApproximately(after[target], 1e-4f);
            adversarial.After.Probability.Should().BeApproximately(after.Max(), 1e-4f);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Counterfactual_gives_the_reference_map_and_masked_input_probabilities(string file)
    {
        JsonElement c = Case(file).GetProperty("counterfactual");
        int target = c.GetProperty("target").GetInt32(), reference = c.GetProperty("reference").GetInt32();
        CounterfactualExplanation e = Counterfactual.Explain(_explainer, Input(file), method: new ScoreCamMethod()); // default T and R: top two

        e.TargetExplanation.Target.Index.Should().Be(target);
        e.ReferenceExplanation.Target.Index.Should().Be(reference, "the default reference is the second most probable class");
        e.Explanation.Layer.TensorName.Should().Be(_reference.GetProperty("layer").GetString());
        (e.Explanation.Map.Width, e.Explanation.Map.Height).Should().Be((c.GetProperty("map_width").GetInt32(), c.GetProperty("map_height").GetInt32()));
        ScaledAlike(e.TargetExplanation.Map.Values, Floats(c.GetProperty("target_map")), "L^T (eq. 5)");
        ScaledAlike(e.ReferenceExplanation.Map.Values, Floats(c.GetProperty("reference_map")), "L^R (eq. 5)");
        ScaledAlike(e.Explanation.Map.Values, Floats(c.GetProperty("map")), "L_CE (eq. 7)");

        float[] input = Floats(c.GetProperty("input")), masked = Floats(c.GetProperty("masked"));
        e.Check.TargetOnInput.Should().BeApproximately(input[0], 1e-4f);
        e.Check.ReferenceOnInput.Should().BeApproximately(input[1], 1e-4f);
        e.Check.TargetOnMasked.Should().BeApproximately(masked[0], 1e-4f);
        e.Check.ReferenceOnMasked.Should().BeApproximately(masked[1], 1e-4f);
    }

    /// <summary>Both divided by the reference's maximum agree to 1e-3 (an all-zero reference: the map is all zero too).</summary>
    private static void ScaledAlike(float[] actual, float[] expected, string what)
    {
        actual.Length.Should().Be(expected.Length, what);
        float max = expected.Max();
        if (max == 0)
        {
            actual.Max().Should().BeLessThan(1e-6f, $"{what}: the reference is all zero");
            return;
        }
        for (int i = 0; i < actual.Length; i++)
            (actual[i] / max).Should().BeApproximately(expected[i] / max, 1e-3f, $"{what} at {i}");
    }
}
