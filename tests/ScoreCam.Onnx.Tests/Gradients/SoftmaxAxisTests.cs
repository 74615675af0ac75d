using Microsoft.ML.OnnxRuntime;
using Onnx;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// A model whose output is a Softmax over one axis of an N×2×3 tensor (a word per step, as a caption decoder's N×T×V
/// output): the gradient graph differentiates the pre-softmax scores, and a score of the probabilities is carried
/// back through the Softmax over the groups it normalises, checked against finite differences of the model's own
/// probabilities.
/// </summary>
public class SoftmaxAxisTests
{
    private const int K = 4, H = 5, W = 5;

    private static PreparedModel Model(int opset, long? axis)
    {
        var (g, a) = GradientCheck.Start(K, H, W, opset);
        var random = new Random(21);
        string z = g.Node("Reshape", new[] {
            g.Node("MatMul", new[] { g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { a }) }),
                g.Weights("w", Enumerable.Range(0, K * 6).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray(), K, 6) }),
            g.Int64s("steps", 0, 2, 3) });
        string p = axis is { } x ? g.Node("Softmax", new[] { z }, null, Int("axis", x)) : g.Node("Softmax", new[] { z });
        g.Output(g.Node("Flatten", new[] { p }, "output"), null, null);
        return new PreparedModel(ModelProto.Parser.ParseFrom(g.Build()), new ImageInputSpec("x", K, H, W), "output", 6, ModelOutputKind.Probabilities,
            new TargetLayer(GradientCheck.Layer, null, "Identity", K, H, W), null, sizeof(float) * K * H * W, Array.Empty<string>(), "steps");
    }

    [TestCase(13, -1L, 3, 1, TestName = "opset 13, over the last axis")]
    [TestCase(13, 2L, 3, 1, TestName = "opset 13, over axis 2")]
    [TestCase(13, 1L, 2, 3, TestName = "opset 13, over axis 1 (the steps)")]
    [TestCase(13, null, 3, 1, TestName = "opset 13, default axis (the last)")]
    [TestCase(11, 1L, 6, 1, TestName = "opset 11, axis 1: coerced to 2-D, the whole row")]
    [TestCase(11, 2L, 3, 1, TestName = "opset 11, axis 2: coerced to 2-D")]
    public void A_score_of_the_probabilities_is_differentiated_through_the_softmax_it_was_made_of(int opset, long? axis, int length, int inner)
    {
        PreparedModel model = Model(opset, axis);
        float[] a = GradientCheck.RandomActivations(K * H * W, 3, positive: false);
        using var forward = new InferenceSession(model.ToBytes());
        float[] Probabilities(float[] x)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(x, new long[] { 1, K, H, W });
            using var run = new RunOptions();
            using var outputs = forward.Run(run, new[] { "x" }, new[] { input }, new[] { "output" });
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        float[] weights = { 1.5f, -2f, 0.5f, 3f, -1f, 2.5f };
        float Score(ReadOnlySpan<float> p)
        {
            float s = 0;
            for (int j = 0; j < p.Length; j++) s += weights[j] * p[j] * p[j];
            return s;
        }

        using var session = GradientSession.ForHead(model);
        session.PreSoftmax.Should().BeTrue();
        session.Softmax.Should().Be(new SoftmaxAxis(length, inner));
        float[] p0 = Probabilities(a);
        var target = ExplanationTarget.Custom("squares", Score).Resolve(new TargetModel(model, null, p0));
        var seed = new float[6];
        GradientSeed.Write(target, model, p0, seed, session.Softmax);
        float[] g = session.Run(a, seed).Gradients;

        var random = new Random(4);
        for (int d = 0; d < 3; d++)
        {
            float[] v = a.Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            const float eps = 1e-2f;
            double numeric = ((double)Score(Probabilities(a.Select((x, i) => x + eps * v[i]).ToArray())) -
                              Score(Probabilities(a.Select((x, i) => x - eps * v[i]).ToArray()))) / (2 * eps);
            double expected = g.Select((x, i) => (double)x * v[i]).Sum();
            Math.Abs(numeric - expected).Should().BeLessThanOrEqualTo(1e-2 * Math.Max(Math.Abs(numeric), 1e-3), $"⟨g, v⟩ = {expected}, finite differences {numeric}");
        }
    }

    [Test]
    public void The_group_of_a_class_alone_carries_the_loss_of_the_attack()
    {
        // −log p_c through a Softmax over groups of 3: p − onehot(c) within c's group, 0 in the other.
        float[] p = { 0.2f, 0.5f, 0.3f, 0.1f, 0.6f, 0.3f };
        var seed = new float[6];
        ScoreCam.Onnx.Experiments.Fgsm.LossSeed(ModelOutputKind.Probabilities, new SoftmaxAxis(3, 1), p, p, 4, seed);
        seed.Should().Equal(new[] { 0f, 0f, 0f, 0.1f, -0.4f, 0.3f }, (x, y) => Math.Abs(x - y) < 1e-6f);
        ScoreCam.Onnx.Experiments.Fgsm.LossSeed(ModelOutputKind.Probabilities, new SoftmaxAxis(2, 3), p, p, 4, seed);
        seed.Should().Equal(new[] { 0f, 0.5f, 0f, 0f, -0.5f, 0f }, (x, y) => Math.Abs(x - y) < 1e-6f);
    }
}
