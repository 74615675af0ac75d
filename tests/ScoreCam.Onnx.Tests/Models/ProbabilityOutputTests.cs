using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>
/// Outputs read from a Softmax through a selection (the last step of an N×T×V output, a subset of the classes, a
/// Slice, a Transpose, an Unsqueeze and a Cast): they are probabilities, Score-CAM weighs each channel with the
/// selected probability itself (eq. 3-4), Grad-CAM differentiates the selected element's pre-softmax score, and a
/// score of the probabilities goes back through the Softmax's groups where the output keeps them whole; where it keeps
/// only some of each group that is refused. Expectations come from ONNX Runtime runs of the models built here.
/// </summary>
public class ProbabilityOutputTests
{
    private const int K = 4, Side = 8, FeatureSide = 4, Logits = 12, T = 3, V = 4;

    public enum Selection { LastStep, ClassSubset, Slice, Transpose, UnsqueezeCast, ConcatAlike, Concat }

    private static readonly Selection[] All = Enum.GetValues<Selection>();

    private static int OutputSize(Selection s) => s switch
    {
        Selection.LastStep or Selection.ClassSubset => V,
        Selection.Slice => 6,
        _ => Logits,
    };

    /// <summary>
    /// Conv (the target layer "features", 4×4×4) → Tanh → global average pool → MatMul to 12 logits → Softmax →
    /// the selection (for the Concats: a Softmax over each of two parts of the logits, 6 and 6 or 5 and 7, joined). From the features on when <paramref name="fromFeatures"/> (the head alone, input "features"),
    /// and with the Softmax replaced by an Identity when not <paramref name="softmax"/> (the selection of the logits).
    /// </summary>
    private static byte[] Build(Selection s, bool fromFeatures = false, bool softmax = true)
    {
        var g = new OnnxGraphBuilder();
        var random = new Random(7);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        float[] conv = Random(K * 3 * 2 * 2), w = Random(K * Logits), b = Random(Logits);
        string features = fromFeatures
            ? g.Input("features", null, K, FeatureSide, FeatureSide)
            : g.Node("Conv", new[] { g.Input("input", null, 3, Side, Side), g.Weights("conv.w", conv, K, 3, 2, 2) }, "features",
                Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        string flat = g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { g.Node("Tanh", new[] { features }) }) });
        string z = g.Node("Add", new[] { g.Node("MatMul", new[] { flat, g.Weights("w", w, K, Logits) }), g.Weights("b", b, Logits) });
        bool steps = s is Selection.LastStep or Selection.Transpose;
        if (steps) z = g.Node("Reshape", new[] { z, g.Int64s("steps", -1, T, V) });
        string Softmax(string logits) => softmax ? g.Node("Softmax", new[] { logits }, null, Int("axis", steps ? 2 : 1)) : g.Node("Identity", new[] { logits });
        string p = s is Selection.ConcatAlike or Selection.Concat ? "" : Softmax(z);
        string Part(long start, long end) => Softmax(g.Node("Slice", new[] { z, g.Int64s($"starts{start}", start), g.Int64s($"ends{start}", end), g.Int64s($"axes{start}", 1) }));
        string output = s switch
        {
            Selection.ConcatAlike => g.Node("Concat", new[] { Part(0, 6), Part(6, 12) }, "output", Int("axis", 1)),
            Selection.Concat => g.Node("Concat", new[] { Part(0, 5), Part(5, 12) }, "output", Int("axis", 1)),
            Selection.LastStep => g.Node("Gather", new[] { p, Scalar(g, "last", T - 1) }, "output", Int("axis", 1)),
            Selection.ClassSubset => g.Node("Gather", new[] { p, g.Int64s("subset", 0, 5, 7, 11) }, "output", Int("axis", 1)),
            Selection.Slice => g.Node("Slice", new[] { p, g.Int64s("starts", 2), g.Int64s("ends", 8), g.Int64s("axes", 1) }, "output"),
            Selection.Transpose => g.Node("Flatten", new[] { g.Node("Transpose", new[] { p }, null, Ints("perm", 0, 2, 1)) }, "output"),
            _ => g.Node("Flatten", new[] { g.Node("Cast", new[] { g.Node("Unsqueeze", new[] { p, g.Int64s("axes", 2) }) }, null,
                Int("to", (long)TensorProto.Types.DataType.Float)) }, "output"),
        };
        g.Output(output, null, OutputSize(s));
        return g.Build();
    }

    private static string Scalar(OnnxGraphBuilder g, string name, long value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Int64Data.Add(value);
        g.Graph.Initializer.Add(tensor);
        return name;
    }

    private static PreparedModel Prepare(Selection s) =>
        ModelPreparer.Prepare(Build(s), s.ToString(), new ModelPreparationOptions { Layer = "features" });

    private static CamExplainer Explainer(Selection s, IExplanationMethod method) => new(Prepare(s), new ExplainerOptions { Method = method });

    private static ImageTensor Image()
    {
        var random = new Random(3);
        return new ImageTensor(Enumerable.Range(0, 3 * Side * Side).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), 3, Side, Side);
    }

    /// <summary>The head's output row at activations <paramref name="a"/>.</summary>
    private static float[] Head(InferenceSession head, float[] a)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(a, new long[] { 1, K, FeatureSide, FeatureSide });
        using var run = new RunOptions();
        using var outputs = head.Run(run, new[] { "features" }, new[] { input }, new[] { "output" });
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Grad-CAM's weight of each channel by central differences: (1/hw) d/dε y(A + ε·1_k) for the score y of the head's output row.</summary>
    private static float[] FiniteDifferenceWeights(InferenceSession head, float[] a, Func<float[], double> y)
    {
        const float eps = 1e-2f;
        int plane = FeatureSide * FeatureSide;
        var weights = new float[K];
        for (int k = 0; k < K; k++)
        {
            float[] up = (float[])a.Clone(), down = (float[])a.Clone();
            for (int i = k * plane; i < (k + 1) * plane; i++) (up[i], down[i]) = (a[i] + eps, a[i] - eps);
            weights[k] = (float)((y(Head(head, up)) - y(Head(head, down))) / (2 * eps * plane));
        }
        return weights;
    }

    [TestCaseSource(nameof(All))]
    public void The_prepared_model_reports_probabilities(Selection s) =>
        Prepare(s).OutputKind.Should().Be(ModelOutputKind.Probabilities);

    [Test]
    public void A_prepared_model_saved_with_its_output_taken_for_logits_is_read_as_probabilities()
    {
        using var folder = new TempFolder();
        string path = folder.File("steps.cam.onnx");
        Prepare(Selection.LastStep).Save(path);
        // As an earlier version recorded it.
        ModelProto saved = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        saved.MetadataProps.Single(p => p.Key.EndsWith("output_kind", StringComparison.Ordinal)).Value = nameof(ModelOutputKind.Logits);
        File.WriteAllBytes(path, saved.ToByteArray());
        ModelPreparer.Prepare(path).OutputKind.Should().Be(ModelOutputKind.Probabilities);
    }

    [TestCaseSource(nameof(All))]
    public void Score_CAM_weighs_each_channel_with_the_selected_probability_of_the_masked_image(Selection s)
    {
        using var explainer = Explainer(s, new ScoreCamMethod());
        ImageTensor image = Image();
        float[] activations = Reference.Run(explainer.Model.ToBytes(), image)["features"];
        foreach (int c in new[] { 0, OutputSize(s) - 1 })
        {
            // Eq. 3-4: the target's probability on each masked image, read as the model gives it (no second softmax).
            float[] expected = Reference.ScoreCamWeights(Build(s), image, activations, K, FeatureSide, FeatureSide, c, p => p);
            explainer.Explain(image, ExplanationTarget.Class(c)).ChannelWeights
                .Should().Equal(expected, (x, e) => Math.Abs(x - e) <= 1e-5f, $"class {c}");
        }
    }

    [TestCaseSource(nameof(All))]
    public void Grad_CAM_differentiates_the_pre_softmax_score_of_the_selected_element(Selection s)
    {
        using var explainer = Explainer(s, new GradCamMethod());
        ImageTensor image = Image();
        float[] activations = Reference.Run(explainer.Model.ToBytes(), image)["features"];
        using var logits = new InferenceSession(Build(s, fromFeatures: true, softmax: false));
        foreach (int c in new[] { 0, OutputSize(s) - 1 })
        {
            float[] expected = FiniteDifferenceWeights(logits, activations, row => row[c]);
            expected.Should().Contain(w => Math.Abs(w) > 1e-2f);
            explainer.Explain(image, ExplanationTarget.Class(c)).ChannelWeights
                .Should().Equal(expected, (x, e) => Math.Abs(x - e) <= 1e-4f + 1e-3f * Math.Abs(e), $"class {c}");
        }
    }

    [TestCase(Selection.LastStep)]
    [TestCase(Selection.Transpose)]
    [TestCase(Selection.Concat)]
    public void The_input_gradient_is_that_of_the_pre_softmax_score_of_the_selected_element(Selection s)
    {
        PreparedModel model = Prepare(s);
        ImageTensor image = Image();
        byte[] logits = Build(s, softmax: false);
        int c = OutputSize(s) - 1;
        var seed = new float[OutputSize(s)];
        seed[c] = 1;
        using var session = GradientSession.ForInput(model, Side, Side, guided: false);
        float[] gradient = session.Run(image.Data, seed).Gradients;

        var random = new Random(5);
        for (int d = 0; d < 2; d++)
        {
            float[] v = image.Data.Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            const float eps = 1e-2f;
            float Along(float sign) => Reference.Run(logits, new ImageTensor(image.Data.Select((x, i) => x + sign * eps * v[i]).ToArray(), 3, Side, Side))["output"][c];
            double numeric = ((double)Along(1) - Along(-1)) / (2 * eps), expected = gradient.Select((g, i) => (double)g * v[i]).Sum();
            Math.Abs(numeric - expected).Should().BeLessThanOrEqualTo(1e-3 + 1e-2 * Math.Abs(numeric), $"⟨g, v⟩ = {expected}, central differences {numeric}");
        }
    }

    [TestCase(Selection.LastStep, V, 1)]
    [TestCase(Selection.Transpose, V, T)]
    [TestCase(Selection.UnsqueezeCast, Logits, 1)]
    [TestCase(Selection.ConcatAlike, 6, 1)]
    public void A_score_of_the_probabilities_goes_back_through_the_softmax_groups_the_output_keeps_whole(Selection s, int length, int inner)
    {
        using var explainer = Explainer(s, new GradCamMethod());
        // The groups in the output row: the last step's vocabulary; after the Transpose V values T apart; the whole row.
        explainer.Gradients.Head.Softmax.Should().Be(new SoftmaxAxis(length, inner));
        ImageTensor image = Image();
        float[] activations = Reference.Run(explainer.Model.ToBytes(), image)["features"];
        using var head = new InferenceSession(Build(s, fromFeatures: true));
        double Score(ReadOnlySpan<float> row)
        {
            double sum = 0;
            for (int j = 0; j < row.Length; j++) sum += (j % 3 - 1) * (double)row[j] * row[j];
            return sum;
        }
        float[] expected = FiniteDifferenceWeights(head, activations, row => Score(row));
        expected.Should().Contain(w => Math.Abs(w) > 1e-3f);
        explainer.Explain(image, ExplanationTarget.Custom("squares", row => (float)Score(row))).ChannelWeights
            .Should().Equal(expected, (x, e) => Math.Abs(x - e) <= 1e-4f + 1e-2f * Math.Abs(e));
    }

    [TestCase(Selection.ClassSubset, "Gather", "keeps only some of the values a Softmax normalises together")]
    [TestCase(Selection.Slice, "Slice", "keeps only some of the values a Softmax normalises together")]
    [TestCase(Selection.Concat, "Concat", "in other than evenly spaced runs of the output row")]
    public void Differentiating_a_probability_whose_softmax_groups_the_output_does_not_keep_is_refused_with_the_node_and_the_remedy(Selection s, string op, string why)
    {
        using var explainer = Explainer(s, new GradCamMethod());
        ImageTensor image = Image();
        string node = new GraphIndex(ModelProto.Parser.ParseFrom(Build(s)).Graph).ProducerOf("output")!.Name;

        var custom = () => explainer.Explain(image, ExplanationTarget.Custom("first", row => row[0]));
        custom.Should().Throw<ScoreCamException>()
            .Which.Message.Should().Contain($"the output 'output' of model '{s}': node '{node}' ({op})").And.Contain(why)
            .And.Contain("ModelPreparationOptions.OutputName");
        var attack = () => Fgsm.Attack(explainer, image, 0.01f);
        attack.Should().Throw<ScoreCamException>().Which.Message.Should().Contain($"'{node}' ({op})");
        // The pre-softmax score of a selected class is still differentiated.
        explainer.Explain(image, ExplanationTarget.Class(1)).ChannelWeights.Should().Contain(w => w != 0);
    }

    [Test]
    public void A_saved_gradient_graph_keeps_its_refusal_and_is_used_as_it_is()
    {
        using var folder = new TempFolder();
        string path = folder.File("subset.cam.onnx"), graph = GradientGraph.DefaultPath(path);
        Prepare(Selection.ClassSubset).Save(path);
        PreparedModel model = ModelPreparer.Prepare(path);
        GradientGraph.Save(model, graph);
        // A mark that a graph built again would not carry.
        ModelProto saved = ModelProto.Parser.ParseFrom(File.ReadAllBytes(graph));
        saved.MetadataProps.Add(new StringStringEntryProto { Key = "test.mark", Value = "saved" });
        File.WriteAllBytes(graph, saved.ToByteArray());

        GradientGraph.Load(model).Should().Equal(File.ReadAllBytes(graph));
        using var session = GradientSession.ForHead(model);
        session.PreSoftmax.Should().BeTrue();
        string node = new GraphIndex(ModelProto.Parser.ParseFrom(Build(Selection.ClassSubset)).Graph).ProducerOf("output")!.Name;
        session.Softmax!.Refusal.Should().Contain($"node '{node}' (Gather) keeps only some");
    }
}
