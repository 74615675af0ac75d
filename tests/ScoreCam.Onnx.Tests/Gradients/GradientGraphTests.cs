using System.Text.Json;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Gradient graphs of whole models: every architecture-coverage model (and the trained default model when
/// committed) against finite differences at its fixture activations, the closed form of GAP → linear, batching,
/// the saved NAME.grad.onnx, and the errors for heads that cannot be differentiated.
/// </summary>
public class GradientGraphTests
{
    public static IEnumerable<TestCaseData> Models()
    {
        string manifest = Repository.Path("onnx-models", "coverage", "coverage.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
        foreach (JsonElement m in doc.RootElement.EnumerateArray())
        {
            string name = m.GetProperty("name").GetString()!;
            yield return new TestCaseData(Path.Combine("coverage", name + ".onnx"), Path.Combine("coverage", name + ".activations.npy"), 1e-2f).SetArgDisplayNames(name);
        }
        // Exports whose target layer is already an output named "activations" (the gradient graph's input name).
        foreach (string name in new[] { "vgg", "convnext" })
            yield return new TestCaseData(Path.Combine("coverage", name + ".act.onnx"), Path.Combine("coverage", name + ".activations.npy"), 1e-2f).SetArgDisplayNames(name + ".act");
        // The trained model's head is GlobalAveragePool → Gemm, linear in A: a larger step has no truncation error and keeps
        // the float32 difference of two logits of magnitude ~10 well above their rounding (at 1e-2 it is ~5% of it).
        yield return new TestCaseData(Path.Combine("fashion-clutter", "fashion-clutter.onnx"), Path.Combine("fashion-clutter", "fashion-clutter.activations.npy"), 0.25f)
            .SetArgDisplayNames("fashion-clutter");
    }

    [TestCaseSource(nameof(Models))]
    public void The_gradient_graph_agrees_with_finite_differences(string modelFile, string activationsFile, float epsilon)
    {
        string path = Repository.Path("onnx-models", modelFile);
        File.Exists(path).Should().BeTrue($"{modelFile} is committed under onnx-models/");
        PreparedModel model = ModelPreparer.Prepare(path);
        int length = model.Layer.Channels * model.Layer.Height * model.Layer.Width;
        // The exporter's activations of its sample (committed beside the model), so the check runs where the model is exercised.
        float[] activations = NpyFile.Read(Repository.Path("onnx-models", activationsFile)).Data[..length];

        var result = GradientCheck.Run(model, activations, samples: 20, epsilon: epsilon);

        result.Checked.Should().BeGreaterThanOrEqualTo(result.Skipped);
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
        result.Gradient.Should().Contain(v => v != 0);
    }

    private static float[] Activations(PreparedModel model, int length)
    {
        using var session = new global::ScoreCam.Onnx.Inference.ModelSession(model);
        var image = new ImageTensor(GradientCheck.RandomActivations(model.Input.Channels * (model.Input.Height ?? 64) * (model.Input.Width ?? 64), 5, false),
            model.Input.Channels, model.Input.Height ?? 64, model.Input.Width ?? 64);
        return session.Forward(image).Activations[..length];
    }

    [Test]
    public void The_ResNet_18_trunk_of_opset_8_gets_a_gradient_graph_when_fetched()
    {
        // tools/export/fetch_realistic.sh puts it here (64 MB, not committed); its head is the 7×7 AveragePool.
        string path = Repository.Path("tools", ".cache", "models", "ResNet18.onnx");
        if (!File.Exists(path)) Assert.Ignore("ResNet18.onnx is not fetched (tools/export/fetch_realistic.sh).");
        // The last block's output (after the residual Add).
        PreparedModel model = ModelPreparer.Prepare(path, new ModelPreparationOptions { Layer = "ReLU393_Output_0" });
        var result = GradientCheck.Run(model, Activations(model, model.Layer.Channels * model.Layer.Height * model.Layer.Width), samples: 12);
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    [Test]
    public void Grad_CAM_of_the_ResNet_18_trunk_explains_a_cosine_similarity_with_its_analytic_seed()
    {
        string path = Repository.Path("tools", ".cache", "models", "ResNet18.onnx");
        if (!File.Exists(path)) Assert.Ignore("ResNet18.onnx is not fetched (tools/export/fetch_realistic.sh).");
        PreparedModel model = ModelPreparer.Prepare(path, new ModelPreparationOptions { Layer = "ReLU393_Output_0" });
        using var explainer = new CamExplainer(model);
        ImageTensor image = Image(model, 1), other = Image(model, 2);
        float[] reference = explainer.Embed(other), embedding = explainer.Embed(image);
        var method = new ScoreCam.Onnx.Methods.GradCamMethod();
        float[] weights = explainer.Explain(image, ScoreCam.Onnx.Methods.SimilarityTarget.Cosine(reference), method).ChannelWeights;

        // d cos(e, r)/de = r/(|e||r|) − cos·e/|e|².
        double ne = Math.Sqrt(embedding.Sum(v => (double)v * v)), nr = Math.Sqrt(reference.Sum(v => (double)v * v));
        double cos = embedding.Zip(reference, (a, b) => (double)a * b).Sum() / (ne * nr);
        float[] seed = embedding.Zip(reference, (e, r) => (float)(r / (ne * nr) - cos * e / (ne * ne))).ToArray();
        using var session = new GradientSession(model);
        var (_, activations, k, h, w) = explainer.Session.Forward(image);
        float[] g = session.Run(activations, seed).Gradients;
        float[] expected = Enumerable.Range(0, k).Select(c => g.Skip(c * h * w).Take(h * w).Average()).ToArray();
        float scale = expected.Max(Math.Abs);
        weights.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-2f * scale);
    }

    private static ImageTensor Image(PreparedModel model, int seed)
    {
        int c = model.Input.Channels, h = model.Input.Height ?? 224, w = model.Input.Width ?? 224;
        return new ImageTensor(GradientCheck.RandomActivations(c * h * w, seed, positive: true).Select(v => v * 60f).ToArray(), c, h, w);
    }

    [Test]
    public void Global_average_pooling_then_a_linear_layer_has_the_closed_form_W_c_over_hw()
    {
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "coloured squares");
        const int k = TestModels.Channels, h = TestModels.Size / 4, w = TestModels.Size / 4;
        using var session = new GradientSession(model);
        float[] activations = GradientCheck.RandomActivations(k * h * w, 3, positive: true);
        for (int c = 0; c < TestModels.Classes; c++)
        {
            var seed = new float[TestModels.Classes];
            seed[c] = 1;
            float[] g = session.Run(activations, seed).Gradients;
            for (int channel = 0; channel < k; channel++)
            {
                float expected = channel == c ? 40f / (h * w) : 0f;
                g.Skip(channel * h * w).Take(h * w).Should().AllSatisfy(v => v.Should().BeApproximately(expected, 1e-6f));
            }
        }
    }

    [Test]
    public void A_batch_gives_each_sample_its_own_gradient()
    {
        PreparedModel model = ModelPreparer.Prepare(Repository.Path("onnx-models", "coverage", "vgg.onnx"));
        int length = model.Layer.Channels * model.Layer.Height * model.Layer.Width, classes = model.OutputSize;
        float[] both = NpyFile.Read(Repository.Path("onnx-models", "coverage", "vgg.activations.npy")).Data[..(2 * length)];
        float[] seeds = Enumerable.Range(0, 2 * classes).Select(i => (float)Math.Sin(i)).ToArray();
        using var session = new GradientSession(model);
        var (logits, batch) = session.Run(both, seeds, count: 2);
        for (int n = 0; n < 2; n++)
        {
            var (one, single) = session.Run(both.AsMemory(n * length, length), seeds.AsMemory(n * classes, classes));
            batch.Skip(n * length).Take(length).Should().Equal(single, (a, b) => Math.Abs(a - b) <= 1e-5f + 1e-4f * Math.Abs(b));
            logits.Skip(n * classes).Take(classes).Should().Equal(one, (a, b) => Math.Abs(a - b) <= 1e-4f);
        }
    }

    [Test]
    public void A_saved_gradient_graph_next_to_the_model_is_used_and_a_stale_one_is_rebuilt()
    {
        using var folder = new TempFolder();
        string modelPath = TestModels.ColouredSquares().Save(Path.Combine(folder.Path, "squares.onnx"));
        PreparedModel model = ModelPreparer.Prepare(modelPath);
        string gradPath = GradientGraph.DefaultPath(modelPath);
        gradPath.Should().Be(Path.Combine(folder.Path, "squares.grad.onnx"));
        GradientGraph.DefaultPath(Path.Combine(folder.Path, "squares.cam.onnx")).Should().Be(gradPath);

        GradientGraph.Save(model, gradPath);
        byte[] saved = File.ReadAllBytes(gradPath);
        GradientGraph.Load(model).Should().Equal(saved);

        var stale = global::Onnx.ModelProto.Parser.ParseFrom(saved);
        stale.MetadataProps.First(p => p.Key == "scorecam.grad.layer").Value = "another layer";
        File.WriteAllBytes(gradPath, Google.Protobuf.MessageExtensions.ToByteArray(stale));
        GradientGraph.Load(model).Should().NotEqual(File.ReadAllBytes(gradPath));
    }

    [Test]
    public void An_op_without_a_rule_gives_an_error_naming_the_op_and_the_node()
    {
        var (g, a) = GradientCheck.Start(4, 5, 5);
        string sin = g.Node("Sin", new[] { g.Node("GlobalAveragePool", new[] { a }) }, "sine");
        string flat = g.Node("Flatten", new[] { sin }, "output");
        g.Output(flat, null, 4);
        PreparedModel model = GradientCheck.Model(g, 4, 5, 5, flat, 4);

        FluentActions.Invoking(() => GradientGraph.Build(model)).Should().Throw<ScoreCamException>()
            .Which.Message.Should().Contain("Sin").And.Contain(g.Graph.Node.First(n => n.OpType == "Sin").Name).And.Contain("no differentiation rule");
    }

    /// <summary>
    /// y = GAP(A) + GAP(x) with A = x: the derivative with respect to A with the skip path held (what a hook on A gives)
    /// is 1/25 per element of the seeded channel; the total derivative with respect to x would be twice that.
    /// </summary>
    [Test]
    public void A_head_that_reads_the_input_other_than_through_the_target_layer_holds_that_path_as_it_is()
    {
        var (g, a) = GradientCheck.Start(4, 5, 5);
        string sum = g.Node("Add", new[] { g.Node("GlobalAveragePool", new[] { a }), g.Node("GlobalAveragePool", new[] { "x" }) });
        string flat = g.Node("Flatten", new[] { sum }, "output");
        g.Output(flat, null, 4);
        PreparedModel model = GradientCheck.Model(g, 4, 5, 5, flat, 4);

        using var session = new GradientSession(model);
        session.TakesImage.Should().BeTrue();
        float[] x = GradientCheck.RandomActivations(100, 5, positive: false);
        var (logits, gradient) = session.Run(x, new float[] { 0, 1, 0, 0 });

        logits[1].Should().BeApproximately(2 * x.Skip(25).Take(25).Average(), 1e-5f);
        gradient.Should().Equal(Enumerable.Range(0, 100).Select(i => i / 25 == 1 ? 1 / 25f : 0f), (p, q) => Math.Abs(p - q) < 1e-6f);
    }

    [Test]
    public void A_conv_whose_weights_come_from_the_activations_is_refused_by_name()
    {
        var (g, a) = GradientCheck.Start(1, 3, 3);
        string conv = g.Node("Conv", new[] { a, a }, "selfconv");
        string flat = g.Node("Flatten", new[] { conv }, "output");
        g.Output(flat, null, 1);
        PreparedModel model = GradientCheck.Model(g, 1, 3, 3, flat, 1);

        FluentActions.Invoking(() => GradientGraph.Build(model)).Should().Throw<ScoreCamException>()
            .Which.Message.Should().Contain("Conv").And.Contain("weights");
    }
}
