using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;
using static ScoreCam.Onnx.Tests.Gradients.GraphBuilderExtensions;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Every differentiation rule on its own: a small head (target layer 4×5×5 → the op → Flatten) whose gradient
/// graph must agree with central finite differences (relative error ≤ 1e-2 at sampled entries, float32).
/// </summary>
public class GradientRuleTests
{
    private const int K = 4, H = 5, W = 5;

    /// <summary>A head: builds the op(s) on the target layer and returns the tensor to flatten into the output.</summary>
    internal delegate string HeadBody(OnnxGraphBuilder g, string a);

    private static TestCaseData Case(string name, HeadBody body, bool positive = false) =>
        new TestCaseData(body, positive).SetArgDisplayNames(name);

    private static readonly Random SharedWeights = new(3);
    // A head built elsewhere (the coverage test) draws from its own generator, so the weights of the tests here stay as they are.
    private static readonly AsyncLocal<Random?> OwnWeights = new();
    private static Random Weights => OwnWeights.Value ?? SharedWeights;

    /// <summary>Runs <paramref name="build"/> with heads drawing their weights from a generator of its own, not the one these tests share.</summary>
    internal static T WithOwnWeights<T>(Func<T> build)
    {
        OwnWeights.Value = new Random(3);
        try
        {
            return build();
        }
        finally
        {
            OwnWeights.Value = null;
        }
    }

    private static float[] RandomWeights(int n) => Enumerable.Range(0, n).Select(_ => (float)(Weights.NextDouble() - 0.5)).ToArray();

    public static IEnumerable<TestCaseData> Rules()
    {
        yield return Case("GlobalAveragePool", (g, a) => g.Node("GlobalAveragePool", new[] { a }));
        yield return Case("GlobalMaxPool", (g, a) => g.Node("GlobalMaxPool", new[] { a }));
        yield return Case("AveragePool k3 s2 p1 exclude pad", (g, a) => g.Node("AveragePool", new[] { a }, null,
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)));
        yield return Case("AveragePool k3 s2 p1 include pad", (g, a) => g.Node("AveragePool", new[] { a }, null,
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 1)));
        yield return Case("AveragePool k2 s2 floor", (g, a) => g.Node("AveragePool", new[] { a }, null, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)));
        yield return Case("AveragePool k2 s2 ceil", (g, a) => g.Node("AveragePool", new[] { a }, null, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("ceil_mode", 1)));
        yield return Case("AveragePool k3 s2 p1 ceil include pad", (g, a) => g.Node("AveragePool", new[] { a }, null, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2),
            Ints("pads", 1, 1, 1, 1), Int("ceil_mode", 1), Int("count_include_pad", 1)));
        yield return Case("MaxPool k3 s2 p1", (g, a) => g.Node("MaxPool", new[] { a }, null, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)));
        yield return Case("MaxPool k2 s1 overlapping", (g, a) => g.Node("MaxPool", new[] { a }, null, Ints("kernel_shape", 2, 2)));
        yield return Case("MaxPool k2 s2 ceil", (g, a) => g.Node("MaxPool", new[] { a }, null, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("ceil_mode", 1)));
        yield return Case("Conv k3 s2 p1 group 2", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(6 * 2 * 9), 6, 2, 3, 3),
            g.Weights($"b{Weights.Next()}", RandomWeights(6), 6) }, null, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("group", 2)));
        yield return Case("Conv k1", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(3 * 4), 3, 4, 1, 1) }));
        yield return Case("Conv k2 s2 dilation 2 (floor)", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(3 * 4 * 4), 3, 4, 2, 2) }, null,
            Ints("strides", 2, 2), Ints("dilations", 2, 2)));
        yield return Case("Conv k3 s2 SAME_UPPER depthwise", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(4 * 9), 4, 1, 3, 3) }, null,
            Ints("strides", 2, 2), Str("auto_pad", "SAME_UPPER"), Int("group", 4)));
        yield return Case("Conv 2x3 kernel asymmetric pads", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(2 * 4 * 6), 2, 4, 2, 3) }, null,
            Ints("pads", 0, 1, 1, 0)));
        yield return Case("Conv k3 p1 group 2 stride 1", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(6 * 2 * 9), 6, 2, 3, 3) }, null,
            Ints("pads", 1, 1, 1, 1), Int("group", 2)));
        yield return Case("Conv k3 depthwise dilation 2 stride 1", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(4 * 9), 4, 1, 3, 3) }, null,
            Ints("pads", 2, 1, 0, 2), Ints("dilations", 2, 2), Int("group", 4)));
        yield return Case("Conv k2 SAME_LOWER stride 1", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(3 * 4 * 4), 3, 4, 2, 2) }, null,
            Str("auto_pad", "SAME_LOWER")));
        yield return Case("Conv k1 with padding wider than the kernel", (g, a) => g.Node("Conv", new[] { a, g.Weights($"w{Weights.Next()}", RandomWeights(3 * 4), 3, 4, 1, 1) }, null,
            Ints("pads", 1, 0, 1, 2)));
        yield return Case("Flatten Gemm transB alpha beta", (g, a) => g.Node("Gemm", new[] { g.Node("Flatten", new[] { a }),
            g.Weights($"w{Weights.Next()}", RandomWeights(3 * 100), 3, 100), g.Weights($"b{Weights.Next()}", RandomWeights(3), 3) }, null,
            Int("transB", 1), Float("alpha", 0.7f), Float("beta", 1.5f)));
        yield return Case("Gemm transA", (g, a) => g.Node("Gemm", new[] { g.Node("Transpose", new[] { g.Node("Flatten", new[] { a }) }, null, Ints("perm", 1, 0)),
            g.Weights($"w{Weights.Next()}", RandomWeights(100 * 3), 100, 3) }, null, Int("transA", 1)));
        yield return Case("Gemm with a computed bias", (g, a) =>
        {
            string f = g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { a }) });
            return g.Node("Gemm", new[] { f, g.Weights($"w{Weights.Next()}", RandomWeights(4 * 4), 4, 4), f }, null, Float("beta", 0.5f));
        });
        yield return Case("Reshape MatMul", (g, a) => g.Node("MatMul", new[] { g.Node("Reshape", new[] { a, g.Int64s($"s{Weights.Next()}", 0, 4, 25) }),
            g.Weights($"w{Weights.Next()}", RandomWeights(25 * 3), 25, 3) }));
        yield return Case("MatMul of two computed tensors", (g, a) =>
        {
            string m = g.Node("Reshape", new[] { a, g.Int64s($"s{Weights.Next()}", 0, 4, 25) });
            return g.Node("MatMul", new[] { m, g.Node("Transpose", new[] { m }, null, Ints("perm", 0, 2, 1)) });
        });
        yield return Case("Squeeze Unsqueeze", (g, a) => g.Node("Unsqueeze", new[] {
            g.Node("Squeeze", new[] { g.Node("GlobalAveragePool", new[] { a }), g.Int64s($"s{Weights.Next()}", 2, 3) }), g.Int64s($"u{Weights.Next()}", 1) }));
        yield return Case("Add with broadcast bias", (g, a) => g.Node("Add", new[] { a, g.Weights($"b{Weights.Next()}", RandomWeights(4), 4, 1, 1) }));
        yield return Case("Sub of a broadcast computed mean", (g, a) => g.Node("Sub", new[] { g.Node("GlobalAveragePool", new[] { a }), a }));
        yield return Case("Mul by itself and a constant", (g, a) => g.Node("Mul", new[] { g.Node("Mul", new[] { a, a }), g.Weights($"c{Weights.Next()}", RandomWeights(5), 5) }));
        yield return Case("Mul broadcast computed", (g, a) => g.Node("Mul", new[] { a, g.Node("Sigmoid", new[] { g.Node("GlobalAveragePool", new[] { a }) }) }));
        yield return Case("Div both computed", (g, a) => g.Node("Div", new[] { a, g.Node("GlobalAveragePool", new[] { a }) }), positive: true);
        yield return Case("Div by constant", (g, a) => g.Node("Div", new[] { a, g.Weights($"c{Weights.Next()}", new[] { 0.5f, 2f, -3f, 4f }, 4, 1, 1) }));
        yield return Case("Relu", (g, a) => g.Node("Relu", new[] { a }));
        yield return Case("LeakyRelu", (g, a) => g.Node("LeakyRelu", new[] { a }, null, Float("alpha", 0.1f)));
        yield return Case("Clip min max", (g, a) => g.Node("Clip", new[] { a, g.Scalar($"lo{Weights.Next()}", -0.5f), g.Scalar($"hi{Weights.Next()}", 0.8f) }));
        yield return Case("Clip min only", (g, a) => g.Node("Clip", new[] { a, g.Scalar($"lo{Weights.Next()}", 0f) }));
        yield return Case("Sigmoid", (g, a) => g.Node("Sigmoid", new[] { a }));
        yield return Case("HardSigmoid", (g, a) => g.Node("HardSigmoid", new[] { g.Node("Mul", new[] { a, g.Scalar($"k{Weights.Next()}", 3f) }) }, null, Float("alpha", 0.25f), Float("beta", 0.4f)));
        yield return Case("HardSwish", (g, a) => g.Node("HardSwish", new[] { g.Node("Mul", new[] { a, g.Scalar($"k{Weights.Next()}", 3f) }) }), positive: false);
        yield return Case("Tanh", (g, a) => g.Node("Tanh", new[] { a }));
        yield return Case("Exp", (g, a) => g.Node("Exp", new[] { a }));
        yield return Case("Log", (g, a) => g.Node("Log", new[] { a }), positive: true);
        yield return Case("Sqrt", (g, a) => g.Node("Sqrt", new[] { a }), positive: true);
        yield return Case("Reciprocal", (g, a) => g.Node("Reciprocal", new[] { a }), positive: true);
        yield return Case("Neg", (g, a) => g.Node("Neg", new[] { a }));
        yield return Case("Erf", (g, a) => g.Node("Erf", new[] { a }));
        yield return Case("Pow 2", (g, a) => g.Node("Pow", new[] { a, g.Scalar($"p{Weights.Next()}", 2f) }));
        yield return Case("Pow 1.5", (g, a) => g.Node("Pow", new[] { a, g.Scalar($"p{Weights.Next()}", 1.5f) }), positive: true);
        yield return Case("Dropout Identity", (g, a) => g.Node("Identity", new[] { g.Node("Dropout", new[] { a }) }));
        yield return Case("Cast", (g, a) => g.Node("Cast", new[] { a }, null, Int("to", 1)));
        yield return Case("Concat", (g, a) => g.Node("Concat", new[] { a, g.Node("Relu", new[] { a }), g.Weights($"c{Weights.Next()}", RandomWeights(50), 1, 2, 5, 5) }, null, Int("axis", 1)));
        yield return Case("Transpose", (g, a) => g.Node("Transpose", new[] { a }, null, Ints("perm", 0, 2, 3, 1)));
        yield return Case("ReduceMean keepdims 0", (g, a) => g.Node("ReduceMean", new[] { a }, null, Ints("axes", 2, 3), Int("keepdims", 0)));
        yield return Case("ReduceMean last axis keepdims", (g, a) => g.Node("ReduceMean", new[] { a }, null, Ints("axes", -1)));
        yield return Case("ReduceSum axes input", (g, a) => g.Node("ReduceSum", new[] { a, g.Int64s($"r{Weights.Next()}", 1) }, null, Int("keepdims", 0)));
        yield return Case("BatchNormalization", (g, a) => g.Node("BatchNormalization", new[] { a,
            g.Weights($"s{Weights.Next()}", new[] { 1.5f, -0.5f, 2f, 0.3f }, 4), g.Weights($"b{Weights.Next()}", RandomWeights(4), 4),
            g.Weights($"m{Weights.Next()}", RandomWeights(4), 4), g.Weights($"v{Weights.Next()}", new[] { 0.5f, 1f, 2f, 4f }, 4) }));
        yield return Case("Softmax", (g, a) => g.Node("Softmax", new[] { g.Node("Flatten", new[] { a }) }, null, Int("axis", 1)));
        yield return Case("LogSoftmax", (g, a) => g.Node("LogSoftmax", new[] { g.Node("Flatten", new[] { a }) }, null, Int("axis", 1)));
        yield return Case("Slice with steps and negative bounds", (g, a) => g.Node("Slice", new[] { a, g.Int64s($"st{Weights.Next()}", 1, -1), g.Int64s($"en{Weights.Next()}", 4, 0),
            g.Int64s($"ax{Weights.Next()}", 2, 3), g.Int64s($"sp{Weights.Next()}", 2, -2) }));
        yield return Case("Gather with repeats", (g, a) => g.Node("Gather", new[] { a, g.Int64s($"ix{Weights.Next()}", 3, 0, 3, 1) }, null, Int("axis", 1)));
        yield return Case("TopK values (the chosen indices held)", (g, a) =>
        {
            string flat = g.Node("Reshape", new[] { a, g.Int64s($"fl{Weights.Next()}", 0, -1) });
            var node = new global::Onnx.NodeProto { OpType = "TopK", Name = "topk", Input = { flat, g.Int64s($"k{Weights.Next()}", 7) }, Output = { "topk_values", "topk_indices" }, Attribute = { Int("axis", 1) } };
            g.Graph.Node.Add(node);
            return g.Node("Identity", new[] { "topk_values" });
        });
        yield return Case("GatherND with repeats, batch_dims 1", (g, a) =>
            g.Node("GatherND", new[] { a, g.Int64s($"nd{Weights.Next()}", 1, 2, 3, 4, 1, 2) is var ix ? g.Node("Reshape", new[] { ix, g.Int64s($"ns{Weights.Next()}", 1, 3, 2) }) : "" },
                null, Int("batch_dims", 1)));
        yield return Case("Split with one unused part", (g, a) =>
        {
            var node = new global::Onnx.NodeProto { OpType = "Split", Name = "split", Input = { a, g.Int64s($"sz{Weights.Next()}", 1, 3) }, Output = { "part0", "part1" }, Attribute = { Int("axis", 1) } };
            g.Graph.Node.Add(node);
            return g.Node("Relu", new[] { "part1" });
        });
        yield return Case("Expand", (g, a) => g.Node("Expand", new[] { g.Node("GlobalAveragePool", new[] { a }), g.Int64s($"sh{Weights.Next()}", 1, 4, 2, 3) }));
        yield return Case("Sum and Mean", (g, a) => g.Node("Mean", new[] { g.Node("Sum", new[] { a, g.Node("GlobalAveragePool", new[] { a }), a }), a }));
        yield return Case("Where", (g, a) => g.Node("Where", new[] { g.Node("Greater", new[] { a, g.Scalar($"t{Weights.Next()}", 0.2f) }), g.Node("Mul", new[] { a, a }), g.Node("GlobalAveragePool", new[] { a }) }));
        yield return Case("PRelu", (g, a) => g.Node("PRelu", new[] { a, g.Weights($"sl{Weights.Next()}", new[] { 0.1f, 0.2f, -0.3f, 0.5f }, 4, 1, 1) }));
        yield return Case("Elu", (g, a) => g.Node("Elu", new[] { a }, null, Float("alpha", 0.7f)));
        yield return Case("Softplus", (g, a) => g.Node("Softplus", new[] { a }));
        yield return Case("Pad constant with a value", (g, a) => g.Node("Pad", new[] { a, g.Int64s($"pd{Weights.Next()}", 0, 0, 1, 2, 0, 0, 2, 1), g.Scalar($"pv{Weights.Next()}", 0.5f) }));
        yield return Case("Pad reflect", (g, a) => g.Node("Pad", new[] { a, g.Int64s($"pd{Weights.Next()}", 0, 0, 2, 1, 0, 0, 1, 3) }, null, Str("mode", "reflect")));
        yield return Case("Pad edge", (g, a) => g.Node("Pad", new[] { a, g.Int64s($"pd{Weights.Next()}", 0, 0, 3, 0, 0, 0, 1, 2) }, null, Str("mode", "edge")));
        yield return Case("Pad negative (crop) and positive", (g, a) => g.Node("Pad", new[] { a, g.Int64s($"pd{Weights.Next()}", 0, -1, -1, 2, 0, 0, 1, -2) }));
        yield return Case("Min(Max(x, 0), 0.8): broadcast constants", (g, a) =>
            g.Node("Min", new[] { g.Node("Max", new[] { a, g.Scalar($"lo{Weights.Next()}", 0f) }), g.Scalar($"hi{Weights.Next()}", 0.8f) }));
        yield return Case("Max(x, x): a tie shared by one tensor", (g, a) => g.Node("Max", new[] { a, a }));
        yield return Case("Max and Min of three computed inputs", (g, a) => g.Node("Sub", new[] {
            g.Node("Max", new[] { a, g.Node("Neg", new[] { a }), g.Node("GlobalAveragePool", new[] { a }) }),
            g.Node("Min", new[] { g.Node("Mul", new[] { a, g.Scalar($"k{Weights.Next()}", 0.5f) }), g.Node("Exp", new[] { a }) }) }));
        yield return Case("LayerNorm (decomposed, channels last)", (g, a) =>
        {
            string t = g.Node("Transpose", new[] { a }, null, Ints("perm", 0, 2, 3, 1));
            string centred = g.Node("Sub", new[] { t, g.Node("ReduceMean", new[] { t }, null, Ints("axes", -1)) });
            string variance = g.Node("ReduceMean", new[] { g.Node("Pow", new[] { centred, g.Scalar($"two{Weights.Next()}", 2f) }) }, null, Ints("axes", -1));
            string std = g.Node("Sqrt", new[] { g.Node("Add", new[] { variance, g.Scalar($"eps{Weights.Next()}", 1e-6f) }) });
            return g.Node("Div", new[] { centred, std });
        });
    }

    [TestCaseSource(nameof(Rules))]
    public void The_rule_agrees_with_finite_differences(object head, bool positive)
    {
        var (g, a) = GradientCheck.Start(K, H, W);
        string flat = g.Node("Flatten", new[] { ((HeadBody)head)(g, a) }, "output");
        g.Output(flat, null, null);
        int outputs = OutputSize(g, flat);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, outputs);

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 11, positive));

        result.Checked.Should().BeGreaterThanOrEqualTo(result.Skipped, "most sampled entries are away from kinks");
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    public static IEnumerable<TestCaseData> OldOpsets()
    {
        yield return new TestCaseData(10, (HeadBody)((g, a) => g.Node("Softmax", new[] { g.Node("Clip", new[] { a }, null, Float("min", -0.5f), Float("max", 0.8f)) }, null, Int("axis", 1))))
            .SetArgDisplayNames("opset 10: Clip bounds as attributes, Softmax coerced to 2-D");
        yield return new TestCaseData(11, (HeadBody)((g, a) => g.Node("Unsqueeze", new[] {
                g.Node("Squeeze", new[] { g.Node("GlobalAveragePool", new[] { a }) }, null, Ints("axes", 2, 3)) }, null, Ints("axes", 1))))
            .SetArgDisplayNames("opset 11: Squeeze and Unsqueeze axes as attributes");
        yield return new TestCaseData(8, (HeadBody)((g, a) => g.Node("AveragePool", new[] { g.Node("Dropout", new[] {
                g.Node("BatchNormalization", new[] { a, g.Weights("s", new[] { 1.5f, -0.5f, 2f, 0.3f }, 4), g.Weights("b", RandomWeights(4), 4),
                    g.Weights("m", RandomWeights(4), 4), g.Weights("v", new[] { 0.5f, 1f, 2f, 4f }, 4) }, null, Int("spatial", 1)) }, null, Float("ratio", 0.3f)) },
                null, Ints("kernel_shape", 5, 5))))
            .SetArgDisplayNames("opset 8: BatchNormalization, Dropout ratio, AveragePool (the CNTK ResNet-18 trunk's ops)");
        yield return new TestCaseData(10, (HeadBody)((g, a) => g.Node("Pad", new[] { a }, null, Ints("pads", 0, 0, 1, 2, 0, 0, 2, 1), Float("value", 0.5f))))
            .SetArgDisplayNames("opset 10: Pad pads and value as attributes");
    }

    /// <summary>The heads of the tests of ops newer than the harness's opset 14, each with its own test below.</summary>
    internal static IEnumerable<HeadBody> NewerOpsetHeads() => [LayerNormalizationHead, GeluHead("none"), GeluHead("tanh")];

    private static string LayerNormalizationHead(OnnxGraphBuilder g, string a) => g.Node("LayerNormalization", new[] {
        g.Node("Transpose", new[] { a }, null, Ints("perm", 0, 2, 3, 1)), g.Weights("gamma", new[] { 1.5f, -0.5f, 2f, 0.3f }, 4), g.Weights("beta", RandomWeights(4), 4) },
        null, Int("axis", -1));

    private static HeadBody GeluHead(string approximate) => (g, a) =>
        g.Node("Gelu", new[] { g.Node("Mul", new[] { a, g.Scalar("k", 2f) }) }, null, Str("approximate", approximate));

    [Test]
    public void LayerNormalization_of_opset_17_agrees_with_finite_differences()
    {
        var (g, a) = GradientCheck.Start(K, H, W, opset: 17);
        string flat = g.Node("Flatten", new[] { LayerNormalizationHead(g, a) }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 17, positive: false));

        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    [TestCase("none")]
    [TestCase("tanh")]
    public void Gelu_of_opset_20_agrees_with_finite_differences(string approximate)
    {
        var (g, a) = GradientCheck.Start(K, H, W, opset: 20);
        string flat = g.Node("Flatten", new[] { GeluHead(approximate)(g, a) }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 31, positive: false));

        result.Checked.Should().BeGreaterThanOrEqualTo(20, "Gelu is smooth");
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    /// <summary>
    /// A GRU over the target layer's channels as the sequence (X: T = 4 steps of 25 values) with hidden size 3, its
    /// initial state computed from the activations too, so both X and H_0 carry gradients: the unrolled equations
    /// against finite differences of ONNX Runtime's own GRU kernel.
    /// </summary>
    [TestCase(1, true, true, false, TestName = "GRU linear_before_reset, bias, initial state, Y_h")]
    [TestCase(0, true, true, true, TestName = "GRU default reset, bias, initial state, Y")]
    [TestCase(1, false, false, true, TestName = "GRU linear_before_reset, no bias, zero initial state, Y")]
    public void A_GRU_is_unrolled_with_the_same_gradient(int linearBeforeReset, bool bias, bool initialState, bool sequenceOutput)
    {
        const int hidden = 3, steps = K, size = H * W;
        var (g, a) = GradientCheck.Start(K, H, W);
        string x = g.Node("Transpose", new[] { g.Node("Reshape", new[] { a, g.Int64s("seq_shape", 0, steps, size) }) }, null, Ints("perm", 1, 0, 2));
        string h0 = initialState
            ? g.Node("Unsqueeze", new[] { g.Node("MatMul", new[] { g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { a }) }),
                g.Weights("h0_w", RandomWeights(K * hidden), K, hidden) }), g.Int64s("axis0", 0) })
            : "";
        var inputs = new[] { x, g.Weights("gru_w", RandomWeights(3 * hidden * size), 1, 3 * hidden, size),
            g.Weights("gru_r", RandomWeights(3 * hidden * hidden).Select(v => 2 * v).ToArray(), 1, 3 * hidden, hidden),
            bias ? g.Weights("gru_b", RandomWeights(6 * hidden), 1, 6 * hidden) : "", "", h0 };
        var gru = new global::Onnx.NodeProto { OpType = "GRU", Name = "gru" };
        gru.Input.AddRange(initialState ? inputs : inputs.Take(bias ? 4 : 3));
        gru.Output.AddRange(new[] { sequenceOutput ? "gru_y" : "", "gru_y_h" });
        gru.Attribute.Add(Int("hidden_size", hidden));
        gru.Attribute.Add(Int("linear_before_reset", linearBeforeReset));
        g.Graph.Node.Add(gru);
        string last = sequenceOutput ? g.Node("Transpose", new[] { "gru_y" }, null, Ints("perm", 2, 0, 1, 3)) : "gru_y_h";
        string flat = g.Node("Flatten", new[] { sequenceOutput ? last : g.Node("Squeeze", new[] { last, g.Int64s("axis0b", 0) }) }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 19, positive: false));

        result.Checked.Should().BeGreaterThanOrEqualTo(20, "a GRU is smooth: no kinks to skip");
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    /// <summary>
    /// An LSTM over the channels as the sequence (X: T = 4 steps of 25 values), hidden size 3, with an initial state
    /// (H_0 and C_0) computed from the activations, so X, H_0 and C_0 carry gradients: the unrolled equations against
    /// finite differences of ONNX Runtime's own LSTM kernel, for each of its outputs Y, Y_h and Y_c.
    /// </summary>
    [TestCase(true, true, false, 0, TestName = "LSTM bias, initial state, peepholes, Y")]
    [TestCase(true, true, true, 1, TestName = "LSTM bias, initial state, peepholes, Y_h")]
    [TestCase(false, false, false, 2, TestName = "LSTM no bias, zero initial state, Y_c")]
    [TestCase(true, false, false, 1, TestName = "LSTM bias, zero initial state, Y_h")]
    public void An_LSTM_is_unrolled_with_the_same_gradient(bool bias, bool initialState, bool peepholes, int output)
    {
        const int hidden = 3, steps = K, size = H * W;
        var (g, a) = GradientCheck.Start(K, H, W);
        string x = g.Node("Transpose", new[] { g.Node("Reshape", new[] { a, g.Int64s("seq_shape", 0, steps, size) }) }, null, Ints("perm", 1, 0, 2));
        string State(string name) => g.Node("Unsqueeze", new[] { g.Node("MatMul", new[] { g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { a }) }),
            g.Weights(name + "_w", RandomWeights(K * hidden), K, hidden) }), g.Int64s(name + "_axis", 0) });
        var inputs = new[] { x, g.Weights("lstm_w", RandomWeights(4 * hidden * size), 1, 4 * hidden, size),
            g.Weights("lstm_r", RandomWeights(4 * hidden * hidden).Select(v => 2 * v).ToArray(), 1, 4 * hidden, hidden),
            bias ? g.Weights("lstm_b", RandomWeights(8 * hidden), 1, 8 * hidden) : "", "",
            initialState ? State("h0") : "", initialState ? State("c0") : "",
            peepholes ? g.Weights("lstm_p", RandomWeights(3 * hidden), 1, 3 * hidden) : "" };
        int used = Array.FindLastIndex(inputs, i => i.Length > 0) + 1;
        var lstm = new global::Onnx.NodeProto { OpType = "LSTM", Name = "lstm" };
        lstm.Input.AddRange(inputs.Take(used));
        lstm.Output.AddRange(new[] { "lstm_y", "lstm_y_h", "lstm_y_c" }.Select((o, i) => i == output ? o : ""));
        lstm.Attribute.Add(Int("hidden_size", hidden));
        g.Graph.Node.Add(lstm);
        string last = output == 0 ? g.Node("Transpose", new[] { "lstm_y" }, null, Ints("perm", 2, 0, 1, 3))
            : g.Node("Squeeze", new[] { output == 1 ? "lstm_y_h" : "lstm_y_c", g.Int64s("axis0b", 0) });
        string flat = g.Node("Flatten", new[] { last }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 23, positive: false));

        result.Checked.Should().BeGreaterThanOrEqualTo(20, "an LSTM is smooth: no kinks to skip");
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    /// <summary>A (tanh) RNN over the channels as the sequence, hidden size 3: the unrolled equations against ONNX Runtime's RNN kernel.</summary>
    [TestCase(true, true, true, TestName = "RNN bias, initial state, Y")]
    [TestCase(false, false, false, TestName = "RNN no bias, zero initial state, Y_h")]
    public void An_RNN_is_unrolled_with_the_same_gradient(bool bias, bool initialState, bool sequenceOutput)
    {
        const int hidden = 3, steps = K, size = H * W;
        var (g, a) = GradientCheck.Start(K, H, W);
        string x = g.Node("Transpose", new[] { g.Node("Reshape", new[] { a, g.Int64s("seq_shape", 0, steps, size) }) }, null, Ints("perm", 1, 0, 2));
        string h0 = initialState
            ? g.Node("Unsqueeze", new[] { g.Node("MatMul", new[] { g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { a }) }),
                g.Weights("h0_w", RandomWeights(K * hidden), K, hidden) }), g.Int64s("axis0", 0) })
            : "";
        var inputs = new[] { x, g.Weights("rnn_w", RandomWeights(hidden * size), 1, hidden, size),
            g.Weights("rnn_r", RandomWeights(hidden * hidden).Select(v => 2 * v).ToArray(), 1, hidden, hidden),
            bias ? g.Weights("rnn_b", RandomWeights(2 * hidden), 1, 2 * hidden) : "", "", h0 };
        var rnn = new global::Onnx.NodeProto { OpType = "RNN", Name = "rnn" };
        rnn.Input.AddRange(inputs.Take(Array.FindLastIndex(inputs, i => i.Length > 0) + 1));
        rnn.Output.AddRange(new[] { sequenceOutput ? "rnn_y" : "", "rnn_y_h" });
        rnn.Attribute.Add(Int("hidden_size", hidden));
        g.Graph.Node.Add(rnn);
        string last = sequenceOutput ? g.Node("Transpose", new[] { "rnn_y" }, null, Ints("perm", 2, 0, 1, 3)) : g.Node("Squeeze", new[] { "rnn_y_h", g.Int64s("axis0b", 0) });
        string flat = g.Node("Flatten", new[] { last }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 29, positive: false));

        result.Checked.Should().BeGreaterThanOrEqualTo(20, "a tanh RNN is smooth: no kinks to skip");
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    [Test]
    public void An_LSTM_the_unrolling_does_not_cover_is_refused_naming_the_node_and_what_to_do()
    {
        var (g, a) = GradientCheck.Start(K, H, W);
        string x = g.Node("Transpose", new[] { g.Node("Reshape", new[] { a, g.Int64s("seq_shape", 0, K, H * W) }) }, null, Ints("perm", 1, 0, 2));
        var lstm = new global::Onnx.NodeProto { OpType = "LSTM", Name = "coupled" };
        lstm.Input.AddRange(new[] { x, g.Weights("lstm_w", RandomWeights(4 * 2 * H * W), 1, 8, H * W), g.Weights("lstm_r", RandomWeights(8 * 2), 1, 8, 2) });
        lstm.Output.AddRange(new[] { "", "lstm_y_h" });
        lstm.Attribute.Add(Int("hidden_size", 2));
        lstm.Attribute.Add(Int("input_forget", 1));
        g.Graph.Node.Add(lstm);
        string flat = g.Node("Flatten", new[] { g.Node("Transpose", new[] { "lstm_y_h" }, null, Ints("perm", 1, 0, 2)) }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        Action build = () => GradientGraph.Build(model);
        build.Should().Throw<ScoreCam.Onnx.Core.ScoreCamException>()
            .WithMessage("*node 'coupled' is an LSTM with coupled input and forget gates*unroll forward LSTMs*Re-export*scorecam, rise*");
    }

    [Test]
    public void A_GRU_the_unrolling_does_not_cover_is_refused_naming_the_node_and_what_to_do()
    {
        var (g, a) = GradientCheck.Start(K, H, W);
        string x = g.Node("Transpose", new[] { g.Node("Reshape", new[] { a, g.Int64s("seq_shape", 0, K, H * W) }) }, null, Ints("perm", 1, 0, 2));
        var gru = new global::Onnx.NodeProto { OpType = "GRU", Name = "backwards" };
        gru.Input.AddRange(new[] { x, g.Weights("gru_w", RandomWeights(2 * 3 * 2 * H * W), 2, 6, H * W), g.Weights("gru_r", RandomWeights(2 * 6 * 2), 2, 6, 2) });
        gru.Output.AddRange(new[] { "", "gru_y_h" });
        gru.Attribute.Add(Int("hidden_size", 2));
        gru.Attribute.Add(Str("direction", "bidirectional"));
        g.Graph.Node.Add(gru);
        string flat = g.Node("Flatten", new[] { g.Node("Transpose", new[] { "gru_y_h" }, null, Ints("perm", 1, 0, 2)) }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        Action build = () => GradientGraph.Build(model);
        build.Should().Throw<ScoreCam.Onnx.Core.ScoreCamException>()
            .WithMessage("*node 'backwards' is a GRU with direction 'bidirectional'*unroll forward GRUs*Re-export*scorecam, rise*");
    }

    /// <summary>
    /// A detector's suppression as torchvision exports it (opset 11): an If whose branch reads a tensor of the enclosing
    /// graph and an initializer by name (ONNX's outer scope), squeezes with the attribute form the gradient graph's opset
    /// dropped, and returns integer indices; the head gathers by them. The indices are held as they are.
    /// </summary>
    [Test]
    public void An_If_that_reads_outer_scope_tensors_and_returns_indices_is_held_constant_and_upgraded()
    {
        PreparedModel model = TopFiveThroughAnIf();

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 17, positive: false));

        result.Checked.Should().BeGreaterThanOrEqualTo(result.Skipped);
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    /// <summary>The tail after the layer (Ablation-CAM's and Recipro-CAM's) keeps what the If's branch reads by name: its output is the five largest activations.</summary>
    [Test]
    public void The_tail_after_the_layer_keeps_what_an_If_reads_from_the_outer_scope()
    {
        float[] a = GradientCheck.RandomActivations(K * H * W, 19, positive: false);
        using var tail = new ScoreCam.Onnx.Inference.TailSession(TopFiveThroughAnIf());
        var rows = new float[5];
        tail.Run(a, 1, rows);
        rows.Should().Equal(a.OrderByDescending(v => v).Take(5));
    }

    /// <summary>
    /// The five largest activations, gathered by indices an If returns: its branch runs TopK on a tensor of the enclosing
    /// graph and an initializer, read by name (ONNX's outer scope), and squeezes with opset 11's axes attribute.
    /// </summary>
    private static PreparedModel TopFiveThroughAnIf()
    {
        var (g, a) = GradientCheck.Start(K, H, W, opset: 11);
        string flat = g.Node("Reshape", new[] { a, g.Int64s("flat_shape", 1, -1) });
        string k = g.Int64s("top_k", 5);
        g.Graph.Initializer.Add(new global::Onnx.TensorProto { Name = "choose", DataType = (int)global::Onnx.TensorProto.Types.DataType.Bool, Int32Data = { 1 } });
        global::Onnx.ValueInfoProto Indices(string name) => new()
        {
            Name = name,
            Type = new global::Onnx.TypeProto { TensorType = new global::Onnx.TypeProto.Types.Tensor { ElemType = (int)global::Onnx.TensorProto.Types.DataType.Int64 } },
        };
        var chosen = new global::Onnx.GraphProto { Name = "then", Output = { Indices("kept") } };
        chosen.Node.Add(new global::Onnx.NodeProto { OpType = "TopK", Name = "then/topk", Input = { flat, k }, Output = { "then/values", "then/indices" }, Attribute = { Int("axis", 1) } });
        chosen.Node.Add(new global::Onnx.NodeProto { OpType = "Squeeze", Name = "then/squeeze", Input = { "then/indices" }, Output = { "kept" }, Attribute = { Ints("axes", 0) } });
        var fixedIndices = new global::Onnx.TensorProto { Name = "else/value", DataType = (int)global::Onnx.TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { 0, 1 } };
        var otherwise = new global::Onnx.GraphProto { Name = "else", Output = { Indices("fixed") } };
        otherwise.Node.Add(new global::Onnx.NodeProto { OpType = "Constant", Name = "else/constant", Output = { "fixed" },
            Attribute = { new global::Onnx.AttributeProto { Name = "value", Type = global::Onnx.AttributeProto.Types.AttributeType.Tensor, T = fixedIndices } } });
        g.Graph.Node.Add(new global::Onnx.NodeProto
        {
            OpType = "If", Name = "suppression", Input = { "choose" }, Output = { "keep" },
            Attribute =
            {
                new global::Onnx.AttributeProto { Name = "then_branch", Type = global::Onnx.AttributeProto.Types.AttributeType.Graph, G = chosen },
                new global::Onnx.AttributeProto { Name = "else_branch", Type = global::Onnx.AttributeProto.Types.AttributeType.Graph, G = otherwise },
            },
        });
        string output = g.Node("Gather", new[] { flat, "keep" }, "output", Int("axis", 1));
        g.Output(output, null, null);
        return GradientCheck.Model(g, K, H, W, output, 5);
    }

    [TestCaseSource(nameof(OldOpsets))]
    public void Heads_of_older_opsets_are_upgraded_with_the_same_meaning(int opset, object head)
    {
        var (g, a) = GradientCheck.Start(K, H, W, opset);
        string flat = g.Node("Flatten", new[] { ((HeadBody)head)(g, a) }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, OutputSize(g, flat));

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 13, positive: false));

        result.Checked.Should().BeGreaterThanOrEqualTo(result.Skipped);
        result.WorstError.Should().BeLessThanOrEqualTo(1e-2);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-2);
    }

    private static int OutputSize(OnnxGraphBuilder g, string output)
    {
        var model = global::Onnx.ModelProto.Parser.ParseFrom(g.Build());
        var shapes = TensorShapeProbe.Run(model, "x", new long[] { 1, K, H, W }, new[] { output });
        return (int)shapes[output].Skip(1).Aggregate(1L, (x, d) => x * d);
    }
}
