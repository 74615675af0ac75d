using System.Text.Json;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Input gradient graphs of whole models: every architecture-coverage family and the default model against finite
/// differences, closed forms of hand-built models (a linear model's gradient is its weight row), MaxPool ties,
/// Guided Backpropagation against a straightforward implementation, batching and the saved graphs.
/// </summary>
public class InputGradientGraphTests
{
    public static IEnumerable<TestCaseData> Models()
    {
        string manifest = Repository.Path("onnx-models", "coverage", "coverage.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
        foreach (JsonElement m in doc.RootElement.EnumerateArray())
        {
            string name = m.GetProperty("name").GetString()!;
            yield return new TestCaseData(Path.Combine("coverage", name + ".onnx"), Path.Combine("coverage", name + ".input.npy")).SetArgDisplayNames(name);
        }
        yield return new TestCaseData(Path.Combine("fashion-clutter", "fashion-clutter.onnx"), Path.Combine("fashion-clutter", "fashion-clutter.input.npy"))
            .SetArgDisplayNames("fashion-clutter");
    }

    /// <summary>
    /// The model's own graph with its ReLUs made smooth (<see cref="GradientCheck.Smoothed"/>): a step of any size
    /// crosses some of a deep network's ReLU kinks, and steps small enough to cross none are lost in float32
    /// rounding. Every other op (and so all of the graph's wiring: residual sums, concatenations, pooling, padding,
    /// channel shuffles) is the family's. The ReLU rules themselves are checked in <see cref="GradientRuleTests"/>, and
    /// the default model's real ReLUs against PyTorch in <see cref="DefaultModelReferenceTests"/>. The step 1e-3 and
    /// ε/2 keep the error floor of float32 forward passes near 2e-2 for these models; a wiring mistake gives errors near 1.
    /// </summary>
    [TestCaseSource(nameof(Models))]
    public void The_input_gradient_graph_agrees_with_finite_differences(string modelFile, string inputFile)
    {
        PreparedModel model = ModelPreparer.Prepare(Repository.Path("onnx-models", modelFile));
        var (data, shape) = NpyFile.Read(Repository.Path("onnx-models", inputFile));
        int c = shape[1], h = shape[2], w = shape[3];

        var (error, gradient) = GradientCheck.AlongDirections(GradientCheck.Smoothed(model), h, w, data[..(c * h * w)], epsilon: 1e-3f);

        error.Should().BeLessThanOrEqualTo(5e-2);
        gradient.Should().Contain(v => v != 0);
    }

    /// <summary>x (1×2×3×4) → Flatten → Gemm with W (3×24, transB) + b, or MatMul with Wᵀ: d y_c / dx = W[c, :].</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void A_linear_model_has_its_weight_row_as_input_gradient(bool matMul)
    {
        const int c = 2, h = 3, w = 4, n = c * h * w, classes = 3;
        float[] weights = GradientCheck.RandomActivations(classes * n, 21, positive: false);
        var g = new OnnxGraphBuilder();
        string flat = g.Node("Flatten", new[] { g.Input("x", null, c, h, w) });
        string output = matMul
            ? g.Node("MatMul", new[] { flat, g.Weights("wt", Transposed(weights, classes, n), n, classes) }, "output")
            : g.Node("Gemm", new[] { flat, g.Weights("w", weights, classes, n), g.Weights("b", new[] { 1f, -2f, 3f }, classes) }, "output", Int("transB", 1));
        g.Output(output, null, classes);
        PreparedModel model = Linear(g, c, h, w, output, classes);
        using var session = GradientSession.ForInput(model, h, w, guided: false);
        float[] x = GradientCheck.RandomActivations(n, 22, positive: false);

        for (int k = 0; k < classes; k++)
        {
            var seed = new float[classes];
            seed[k] = 1;
            session.Run(x, seed).Gradients.Should().Equal(weights.Skip(k * n).Take(n), (a, b) => Math.Abs(a - b) <= 1e-6f);
        }
        session.PreSoftmax.Should().BeFalse();
    }

    private static float[] Transposed(float[] m, int rows, int cols)
    {
        var t = new float[m.Length];
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++) t[k * rows + r] = m[r * cols + k];
        return t;
    }

    private static PreparedModel Linear(OnnxGraphBuilder g, int c, int h, int w, string output, int classes) =>
        new(global::Onnx.ModelProto.Parser.ParseFrom(g.Build()), new ImageInputSpec("x", c, h, w), output, classes, ModelOutputKind.Logits,
            new TargetLayer("x", null, null, c, h, w), null, sizeof(float) * c * h * w, Array.Empty<string>(), "linear model");

    /// <summary>
    /// Coloured squares (conv 4×4 stride 4 of channel means, ReLU, GAP, 40·channel, Softmax): with every conv output
    /// positive, d z_c / dx = 40 / (8·8) / 16 on input channel c and 0 elsewhere, and z are the pre-softmax logits.
    /// </summary>
    [Test]
    public void The_coloured_squares_model_has_the_closed_form_gradient_of_its_pre_softmax_logits()
    {
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares(TestModels.Head.Softmax).Build(), "squares");
        const int size = TestModels.Size, plane = size * size;
        using var session = GradientSession.ForInput(model, size, size, guided: false);
        float[] x = GradientCheck.RandomActivations(3 * plane, 4, positive: true);
        session.PreSoftmax.Should().BeTrue();
        session.Warnings.Should().BeEmpty();
        for (int c = 0; c < TestModels.Classes; c++)
        {
            var seed = new float[TestModels.Classes];
            seed[c] = 1;
            float[] gradient = session.Run(x, seed).Gradients;
            for (int channel = 0; channel < 3; channel++)
                gradient.Skip(channel * plane).Take(plane).Should().AllSatisfy(v => v.Should().BeApproximately(channel == c ? 40f / 64 / 16 : 0f, 1e-7f));
        }
    }

    /// <summary>
    /// PyTorch's max_pool2d (CPU) sends a window's gradient to its first maximum in row-major window order; ONNX
    /// Runtime's Indices do the same, and so does this graph. Windows overlap (stride 1), so a shared maximum adds up.
    /// </summary>
    [Test]
    public void MaxPool_sends_a_tied_window_s_gradient_to_its_first_maximum_in_row_major_order()
    {
        var g = new OnnxGraphBuilder();
        string pool = g.Node("MaxPool", new[] { g.Input("x", null, 1, 3, 3) }, null, Ints("kernel_shape", 2, 2));
        string output = g.Node("Flatten", new[] { pool }, "output");
        g.Output(output, null, 4);
        PreparedModel model = Linear(g, 1, 3, 3, output, 4);
        using var session = GradientSession.ForInput(model, 3, 3, guided: false);
        float[] x =
        {
            1, 2, 2,
            2, 2, 0,
            2, 2, 2,
        };
        // Windows (top-left corner): (0,0) ties at (0,1),(1,0),(1,1) → (0,1); (0,1) ties at (0,1),(0,2),(1,1) → (0,1);
        // (1,0) ties at all four → (1,0); (1,1) ties at (1,1),(2,1),(2,2) → (1,1).
        float[] seeds = { 1, 10, 100, 1000 };
        session.Run(x, seeds).Gradients.Should().Equal(0, 11, 0, 100, 1000, 0, 0, 0, 0);
    }

    /// <summary>
    /// Guided Backpropagation on x → Gemm → Relu → Gemm → Clip(0, 6) → Gemm → Clip(−1, 1) → Gemm, against a
    /// straightforward backward pass: Relu and Clip from 0 pass g only where their input &gt; 0 (and below 6) and g &gt; 0;
    /// Clip(−1, 1) is not a ReLU and keeps its true derivative. The vanilla graph's result is checked the same way.
    /// Clip's lower bound 0 is an initializer, or a Constant node as PyTorch exports ReLU6.
    /// </summary>
    [TestCase(true, false)]
    [TestCase(true, true)]
    [TestCase(false, false)]
    public void Guided_backpropagation_drops_negative_gradients_at_ReLUs_only(bool guided, bool boundFromConstantNode)
    {
        int[] widths = { 12, 16, 16, 16, 5 };
        var random = new Random(5);
        float[][] layers = Enumerable.Range(0, 4).Select(l => Enumerable.Range(0, widths[l + 1] * widths[l]).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var g = new OnnxGraphBuilder();
        string t = g.Node("Flatten", new[] { g.Input("x", null, 3, 2, 2) });
        string[] activation = { "Relu", "Clip06", "Clip11" };
        for (int l = 0; l < 4; l++)
        {
            t = g.Node("Gemm", new[] { t, g.Weights($"w{l}", layers[l], widths[l + 1], widths[l]) }, l == 3 ? "output" : null, Int("transB", 1));
            if (l == 3) break;
            t = activation[l] switch
            {
                "Relu" => g.Node("Relu", new[] { t }),
                "Clip06" => g.Node("Clip", new[] { t, boundFromConstantNode ? ConstantNode(g, 0f) : g.Scalar("zero", 0f), g.Scalar("six", 6f) }),
                _ => g.Node("Clip", new[] { t, g.Scalar("minus1", -1f), g.Scalar("one", 1f) }),
            };
        }
        g.Output(t, null, widths[4]);
        PreparedModel model = Linear(g, 3, 2, 2, t, widths[4]);
        using var session = GradientSession.ForInput(model, 2, 2, guided);
        float[] x = GradientCheck.RandomActivations(12, 6, positive: false).Select(v => 2 * v).ToArray();
        float[] seed = { 1, -0.5f, 0.25f, 2, -1 };

        // Forward, keeping each activation's input.
        var inputs = new List<double[]>();
        double[] a = x.Select(v => (double)v).ToArray();
        for (int l = 0; l < 4; l++)
        {
            a = Enumerable.Range(0, widths[l + 1]).Select(o => Enumerable.Range(0, widths[l]).Sum(i => layers[l][o * widths[l] + i] * a[i])).ToArray();
            if (l == 3) break;
            inputs.Add(a);
            a = a.Select(v => l switch { 0 => Math.Max(v, 0), 1 => Math.Clamp(v, 0, 6), _ => Math.Clamp(v, -1, 1) }).ToArray();
        }
        // Backward.
        double[] grad = seed.Select(v => (double)v).ToArray();
        for (int l = 3; l >= 0; l--)
        {
            grad = Enumerable.Range(0, widths[l]).Select(i => Enumerable.Range(0, widths[l + 1]).Sum(o => layers[l][o * widths[l] + i] * grad[o])).ToArray();
            if (l == 0) break;
            double[] z = inputs[l - 1];
            grad = grad.Select((d, i) => (l - 1) switch
            {
                0 => z[i] > 0 && (!guided || d > 0) ? d : 0,
                1 => z[i] > 0 && z[i] < 6 && (!guided || d > 0) ? d : 0,
                _ => z[i] > -1 && z[i] < 1 ? d : 0,
            }).ToArray();
        }

        float[] actual = session.Run(x, seed).Gradients;
        actual.Should().Equal(grad, (p, q) => Math.Abs(p - q) <= 1e-5 * (1 + Math.Abs(q)));
        inputs.SelectMany(z => z).Should().Contain(v => v < 0, "some ReLUs are closed").And.Contain(v => v > 0);
    }

    private static string ConstantNode(OnnxGraphBuilder g, float value)
    {
        var tensor = new global::Onnx.TensorProto { DataType = (int)global::Onnx.TensorProto.Types.DataType.Float, RawData = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(value)) };
        return g.Node("Constant", Array.Empty<string>(), null, new global::Onnx.AttributeProto { Name = "value", Type = global::Onnx.AttributeProto.Types.AttributeType.Tensor, T = tensor });
    }

    [Test]
    public void A_batch_gives_each_input_its_own_gradient()
    {
        PreparedModel model = ModelPreparer.Prepare(Repository.Path("onnx-models", "coverage", "resnet-basic.onnx"));
        var (both, shape) = NpyFile.Read(Repository.Path("onnx-models", "coverage", "resnet-basic.input.npy"));
        int length = shape[1] * shape[2] * shape[3], classes = model.OutputSize;
        float[] seeds = Enumerable.Range(0, 2 * classes).Select(i => (float)Math.Sin(i)).ToArray();
        using var session = GradientSession.ForInput(model, shape[2], shape[3], guided: false);
        var (logits, batch) = session.Run(both.AsMemory(0, 2 * length), seeds, count: 2);
        for (int n = 0; n < 2; n++)
        {
            var (one, single) = session.Run(both.AsMemory(n * length, length), seeds.AsMemory(n * classes, classes));
            batch.Skip(n * length).Take(length).Should().Equal(single, (a, b) => Math.Abs(a - b) <= 1e-6f + 1e-4f * Math.Abs(b));
            logits.Skip(n * classes).Take(classes).Should().Equal(one, (a, b) => Math.Abs(a - b) <= 1e-4f);
        }
    }

    /// <summary>
    /// The overload that writes into the caller's buffers (slices of larger ones here, as batches reuse them) gives
    /// what the allocating one returns, value for value, on the default model (pre-softmax logits) and its head.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void Running_into_the_caller_s_buffers_equals_the_allocating_run(bool head)
    {
        PreparedModel model = ModelPreparer.Prepare(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        using var session = head ? GradientSession.ForHead(model) : GradientSession.ForInput(model, 96, 96, guided: false);
        const int count = 3;
        int length = session.Channels * session.Height * session.Width, classes = session.OutputSize;
        float[] sources = GradientCheck.RandomActivations(count * length, 31, positive: head);
        float[] seeds = Enumerable.Range(0, count * classes).Select(i => (float)Math.Sin(i)).ToArray();
        var (logits, gradients) = session.Run(sources, seeds, count);

        float[] logitBuffer = Enumerable.Repeat(float.NaN, (count + 1) * classes).ToArray();
        float[] gradientBuffer = Enumerable.Repeat(float.NaN, (count + 1) * length).ToArray();
        session.Run(sources, seeds, logitBuffer.AsSpan(classes, count * classes), gradientBuffer.AsSpan(length, count * length), count);

        logitBuffer[classes..].Should().Equal(logits);
        gradientBuffer[length..].Should().Equal(gradients);
        gradientBuffer[..length].Should().OnlyContain(v => float.IsNaN(v), "nothing is written outside the buffers given");
        gradients.Should().Contain(v => v != 0);
        FluentActions.Invoking(() => session.Run(sources, seeds, new float[count * classes], new float[length], count)).Should()
            .Throw<ArgumentException>().WithParameterName("gradients");
    }

    [Test]
    public void Saved_input_gradient_graphs_are_used_for_the_same_size_and_rule_and_rebuilt_otherwise()
    {
        using var folder = new TempFolder();
        string modelPath = TestModels.ColouredSquares().Save(Path.Combine(folder.Path, "squares.onnx"));
        PreparedModel model = ModelPreparer.Prepare(modelPath);
        string vanilla = InputGradientGraph.DefaultPath(modelPath, guided: false), guided = InputGradientGraph.DefaultPath(modelPath, guided: true);
        vanilla.Should().Be(Path.Combine(folder.Path, "squares.input-grad.onnx"));
        guided.Should().Be(Path.Combine(folder.Path, "squares.guided-grad.onnx"));
        InputGradientGraph.DefaultPath(Path.Combine(folder.Path, "squares.cam.onnx"), guided: false).Should().Be(vanilla);

        InputGradientGraph.Save(model, 32, 32, guided: false, vanilla);
        InputGradientGraph.Save(model, 32, 32, guided: true, guided);
        InputGradientGraph.Load(model, 32, 32, guided: false).Should().Equal(File.ReadAllBytes(vanilla));
        InputGradientGraph.Load(model, 32, 32, guided: true).Should().Equal(File.ReadAllBytes(guided));

        // Made for another size, or the guided graph in the vanilla graph's place: rebuilt in memory.
        var stale = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(vanilla));
        stale.MetadataProps.First(p => p.Key == "scorecam.grad.size").Value = "64x64";
        File.WriteAllBytes(vanilla, Google.Protobuf.MessageExtensions.ToByteArray(stale));
        InputGradientGraph.Load(model, 32, 32, guided: false).Should().NotEqual(File.ReadAllBytes(vanilla));
        File.Copy(guided, vanilla, overwrite: true);
        InputGradientGraph.Load(model, 32, 32, guided: false).Should().NotEqual(File.ReadAllBytes(vanilla));
    }

    [Test]
    public void A_size_other_than_the_model_s_fixed_size_is_refused()
    {
        PreparedModel model = ModelPreparer.Prepare(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        FluentActions.Invoking(() => InputGradientGraph.Build(model, 64, 64, guided: false)).Should().Throw<ScoreCamException>()
            .Which.Message.Should().Contain("96×96").And.Contain("64×64");
    }

    [Test]
    public void A_run_that_ONNX_Runtime_rejects_is_a_clear_error()
    {
        var g = new OnnxGraphBuilder();
        string output = g.Node("Reshape", new[] { g.Input("x", 1, 1, 2, 2), g.Int64s("shape", 1, 4) }, "output");
        g.Output(output, 1, 4);
        PreparedModel model = Linear(g, 1, 2, 2, output, 4);
        using var session = GradientSession.ForInput(model, 2, 2, guided: false);

        FluentActions.Invoking(() => session.Run(new float[8], new float[8], count: 2)).Should().Throw<ScoreCamException>()
            .Which.Message.Should().Contain("2 input(s) of 1×2×2").And.Contain("fixes its batch size");
    }

    [Test]
    public void An_op_without_a_rule_is_named_with_its_node()
    {
        var g = new OnnxGraphBuilder();
        string sin = g.Node("Sin", new[] { g.Input("x", null, 1, 2, 2) }, "sine");
        string output = g.Node("Flatten", new[] { sin }, "output");
        g.Output(output, null, 4);
        PreparedModel model = Linear(g, 1, 2, 2, output, 4);

        FluentActions.Invoking(() => InputGradientGraph.Build(model, 2, 2, guided: false)).Should().Throw<ScoreCamException>()
            .Which.Message.Should().Contain("Sin").And.Contain("the input 'x'").And.Contain("no differentiation rule");
    }
}
