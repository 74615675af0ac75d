using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Gradients on the toy captioner of onnx-models/captions, whose GRU decoder reads the fed previous words: the head
/// gradient dY/dA and the input gradient dY/dx of the next word's score against central finite differences of the
/// forward model run by ONNX Runtime (its own GRU kernel) with the same feed, and Grad-CAM against the same map
/// computed from finite-difference weights.
/// </summary>
public class CaptionGradientTests
{
    private const int Word = 7; // "square", after prefix-right's words

    private static PreparedModel Prepare(string output = "logits") => ModelPreparer.Prepare(CaptionModelTests.File("captioner.onnx"), new ModelPreparationOptions
    {
        OutputName = output,
        Feeds = new Dictionary<string, InputFeed> { ["tokens"] = InputFeed.Read(CaptionModelTests.File("prefix-right.npy")) },
    });

    private static ImageTensor Sample => NpyFile.ReadImageTensor(CaptionModelTests.File("sample.input.npy"));

    private static float[] Tokens => InputFeed.Read(CaptionModelTests.File("prefix-right.npy")).Values.ToArray();

    /// <summary>One output of an ONNX model, run with its image-like input and the fed tokens [1, 7, 10].</summary>
    private sealed class Forward(byte[] model, string input, long[] shape, string output) : IDisposable
    {
        private readonly InferenceSession _session = new(model);

        public float[] Run(float[] x)
        {
            using var a = OrtValue.CreateTensorValueFromMemory(x, shape);
            using var t = OrtValue.CreateTensorValueFromMemory(Tokens, new long[] { 1, 7, 10 });
            using var run = new RunOptions();
            using var outputs = _session.Run(run, new[] { input, "tokens" }, new[] { a, t }, new[] { output });
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        /// <summary>(Y(x + εv) − Y(x − εv)) / 2ε for output element <paramref name="element"/>, in double.</summary>
        public double Slope(float[] x, float[] v, float epsilon, int element)
        {
            float[] plus = x.Select((a, i) => a + epsilon * v[i]).ToArray(), minus = x.Select((a, i) => a - epsilon * v[i]).ToArray();
            return ((double)Run(plus)[element] - Run(minus)[element]) / (2.0 * epsilon);
        }

        public void Dispose() => _session.Dispose();
    }

    private static float[] Activations(PreparedModel model)
    {
        using var prepared = new Forward(model.ToBytes(), "image", new long[] { 1, 3, 64, 64 }, model.Layer.TensorName);
        return prepared.Run(Sample.Data);
    }

    private static float[] OneHot(int length, int index)
    {
        var v = new float[length];
        v[index] = 1;
        return v;
    }

    [Test]
    public void The_head_gradient_of_the_next_word_agrees_with_finite_differences_of_the_head()
    {
        PreparedModel model = Prepare();
        float[] a = Activations(model);
        using var session = GradientSession.ForHead(model);
        float[] g = session.Run(a, OneHot(10, Word)).Gradients;
        using var head = new Forward(GradientGraph.HeadModel(model).ToByteArray(), GradientGraph.ActivationsInput, new long[] { 1, 32, 16, 16 }, GradientGraph.LogitsOutput);

        double scale = g.Max(x => Math.Abs((double)x));
        scale.Should().BeGreaterThan(0);
        var random = new Random(5);
        int[] entries = Enumerable.Range(0, g.Length).OrderByDescending(i => Math.Abs(g[i])).Take(4)
            .Concat(Enumerable.Range(0, 4).Select(_ => random.Next(g.Length))).ToArray();
        foreach (int i in entries)
        {
            double numeric = head.Slope(a, OneHot(a.Length, i), 5e-2f, Word);
            Math.Abs(numeric - g[i]).Should().BeLessThanOrEqualTo(1e-2 * Math.Max(Math.Abs(numeric), 0.05 * scale), $"entry {i}: dY/dA = {g[i]}, finite differences {numeric}");
        }
    }

    [Test]
    public void The_input_gradient_of_the_next_word_agrees_with_finite_differences_of_the_captioner()
    {
        // The encoder's ReLUs as Softplus: a step along a direction over all 12288 pixels crosses many ReLU kinks.
        PreparedModel model = GradientCheck.Smoothed(Prepare());
        float[] x = Sample.Data;
        using var session = GradientSession.ForInput(model, 64, 64, guided: false);
        float[] g = session.Run(x, OneHot(10, Word)).Gradients;
        using var captioner = new Forward(model.ToBytes(), "image", new long[] { 1, 3, 64, 64 }, "logits");

        // Single pixels with the largest gradients, and along two random directions and the gradient itself.
        double scale = g.Max(v => Math.Abs((double)v));
        var random = new Random(9);
        var directions = Enumerable.Range(0, g.Length).OrderByDescending(i => Math.Abs(g[i])).Take(3).Select(i => OneHot(g.Length, i))
            .Concat(Enumerable.Range(0, 2).Select(_ => g.Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()))
            .Append(g.Select(v => (float)(v / scale)).ToArray());
        foreach (float[] v in directions)
        {
            double expected = g.Select((gi, i) => (double)gi * v[i]).Sum(), norm = g.Select((gi, i) => Math.Abs((double)gi * v[i])).Sum();
            double numeric = captioner.Slope(x, v, 1e-2f, Word);
            Math.Abs(numeric - expected).Should().BeLessThanOrEqualTo(1e-2 * Math.Max(Math.Abs(expected), 0.05 * norm), $"⟨g, v⟩ = {expected}, finite differences {numeric}");
        }
    }

    [Test]
    public void Grad_cam_of_the_next_word_is_the_map_of_finite_difference_weights()
    {
        PreparedModel model = Prepare();
        using var explainer = new CamExplainer(model);
        Explanation e = explainer.Explain(Sample, ExplanationTarget.OutputElement("logits", Word), new GradCamMethod());
        e.Target.Index.Should().Be(Word);

        // w_k = mean over the plane of dY/dA_k = the slope of Y along v = 1_k / (h·w) (Grad-CAM); L = ReLU(Σ w_k A_k).
        float[] a = Activations(model);
        const int plane = 16 * 16;
        using var head = new Forward(GradientGraph.HeadModel(model).ToByteArray(), GradientGraph.ActivationsInput, new long[] { 1, 32, 16, 16 }, GradientGraph.LogitsOutput);
        double[] weights = Enumerable.Range(0, 32).Select(k =>
            head.Slope(a, Enumerable.Range(0, a.Length).Select(i => i / plane == k ? 1f / plane : 0f).ToArray(), plane * 2e-2f, Word)).ToArray();
        double[] map = Enumerable.Range(0, plane).Select(p => Math.Max(0, Enumerable.Range(0, 32).Sum(k => weights[k] * a[k * plane + p]))).ToArray();

        double wMax = weights.Max(Math.Abs), mMax = map.Max();
        mMax.Should().BeGreaterThan(0);
        e.ChannelWeights.Should().Equal(weights, (w, expected) => Math.Abs(w - expected) <= 1e-2 * wMax);
        e.Map.Values.Should().Equal(map, (m, expected) => Math.Abs(m - expected) <= 1e-2 * mMax);
    }

    [Test]
    public void Grad_cam_of_the_softmax_output_differentiates_its_input_as_for_classifiers()
    {
        // The probabilities output ends in Softmax: Grad-CAM takes the pre-softmax score, the logits output's element.
        using var logits = new CamExplainer(Prepare());
        using var probabilities = new CamExplainer(Prepare("probabilities"));
        probabilities.Model.OutputKind.Should().Be(ModelOutputKind.Probabilities);
        Explanation fromLogits = logits.Explain(Sample, ExplanationTarget.OutputElement("logits", Word), new GradCamMethod());
        Explanation fromSoftmax = probabilities.Explain(Sample, ExplanationTarget.OutputElement("probabilities", Word), new GradCamMethod());
        fromSoftmax.Target.Score.Should().BeApproximately(fromLogits.Target.Score, 1e-5f, "both are scored as the word's probability");
        fromSoftmax.ChannelWeights.Should().Equal(fromLogits.ChannelWeights, (a, b) => Math.Abs(a - b) <= 1e-5f * fromLogits.ChannelWeights.Max(Math.Abs));
    }

    [TestCase("gradcam++")]
    [TestCase("xgradcam")]
    [TestCase("layercam")]
    [TestCase("input-x-gradient")]
    [TestCase("guided-backprop")]
    [TestCase("smoothgrad")]
    [TestCase("guided-gradcam")]
    [TestCase("guided-scorecam")]
    public void Every_gradient_method_explains_the_next_word(string method)
    {
        using var explainer = new CamExplainer(Prepare());
        Explanation e = explainer.Explain(Sample, ExplanationTarget.OutputElement("logits", Word), MethodCatalog.Create(method));
        e.Target.Index.Should().Be(Word);
        e.Map.Values.Should().OnlyContain(v => float.IsFinite(v));
        e.Map.Values.Max().Should().BeGreaterThan(0, "the word depends on the picture");
    }

    [Test]
    public void Integrated_gradients_of_the_next_word_are_complete()
    {
        // Σ IG = Y(x) − Y(black) (the completeness axiom), with Y from the logits of the fed model.
        using var explainer = new CamExplainer(Prepare());
        Explanation e = explainer.Explain(Sample, ExplanationTarget.OutputElement("logits", Word), MethodCatalog.Create("integrated-gradients"));
        double difference = e.Extras!["score_difference"], error = e.Extras["completeness_error"];
        Math.Abs(difference).Should().BeGreaterThan(0.5);
        Math.Abs(error).Should().BeLessThan(0.02 * Math.Abs(difference));
    }
}
