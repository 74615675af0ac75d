using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;
using static ScoreCam.Onnx.Tests.Gradients.GraphBuilderExtensions;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Resize (what segmenters' heads and detectors' necks upsample with) against central finite differences of ONNX
/// Runtime's own Resize: the interpolation matrices must sample exactly as it does, in every coordinate
/// transformation and rounding, up- and downsampling, sizes or scales given, the sizes computed from a Shape (as
/// torch.onnx exports F.interpolate(size=...)).
/// </summary>
public class ResizeRuleTests
{
    private const int K = 3, H = 5, W = 6;

    private static readonly Dictionary<string, Func<OnnxGraphBuilder, string, string>> Heads = new();

    private static TestCaseData Case(string name, Func<OnnxGraphBuilder, string, string> resize)
    {
        Heads[name] = resize;
        return new TestCaseData(name).SetArgDisplayNames(name);
    }

    private static string Sizes(OnnxGraphBuilder g, string a, long h, long w, params AttributeProto[] attributes) =>
        g.Node("Resize", new[] { a, "", "", g.Int64s($"sizes{h}x{w}{attributes.Length}", 1, K, h, w) }, null, attributes);

    private static string Scales(OnnxGraphBuilder g, string a, float h, float w, params AttributeProto[] attributes) =>
        g.Node("Resize", new[] { a, "", g.Weights($"scales{h}x{w}{attributes.Length}", new[] { 1f, 1f, h, w }, 4) }, null, attributes);

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("linear half_pixel up 9x13 (F.interpolate bilinear)", (g, a) => Sizes(g, a, 9, 13, Str("mode", "linear")));
        yield return Case("linear half_pixel down 3x4", (g, a) => Sizes(g, a, 3, 4, Str("mode", "linear")));
        yield return Case("linear pytorch_half_pixel to 1x7", (g, a) => Sizes(g, a, 1, 7, Str("mode", "linear"), Str("coordinate_transformation_mode", "pytorch_half_pixel")));
        yield return Case("linear align_corners up 8x11", (g, a) => Sizes(g, a, 8, 11, Str("mode", "linear"), Str("coordinate_transformation_mode", "align_corners")));
        yield return Case("linear asymmetric scales 2, 1.5", (g, a) => Scales(g, a, 2f, 1.5f, Str("mode", "linear"), Str("coordinate_transformation_mode", "asymmetric")));
        yield return Case("nearest asymmetric floor scales 2 (nn.Upsample)", (g, a) => Scales(g, a, 2f, 2f, Str("mode", "nearest"),
            Str("coordinate_transformation_mode", "asymmetric"), Str("nearest_mode", "floor")));
        yield return Case("nearest half_pixel round_prefer_floor up 8x9", (g, a) => Sizes(g, a, 8, 9, Str("mode", "nearest")));
        yield return Case("nearest half_pixel round_prefer_ceil down 3x3", (g, a) => Sizes(g, a, 3, 3, Str("mode", "nearest"), Str("nearest_mode", "round_prefer_ceil")));
        yield return Case("nearest align_corners floor down 4x3", (g, a) => Sizes(g, a, 4, 3, Str("mode", "nearest"),
            Str("coordinate_transformation_mode", "align_corners"), Str("nearest_mode", "floor")));
        yield return Case("linear to the size of another tensor (Shape, Slice, Concat)", (g, a) =>
        {
            string big = Sizes(g, a, 10, 12, Str("mode", "nearest"));
            string hw = g.Node("Slice", new[] { g.Node("Shape", new[] { big }), g.Int64s("from", 2), g.Int64s("to", 4) });
            string sizes = g.Node("Concat", new[] { g.Int64s("nc", 1, K), hw }, null, Int("axis", 0));
            return g.Node("Add", new[] { big, g.Node("Resize", new[] { a, "", "", sizes }, null, Str("mode", "linear")) });
        });
    }

    /// <summary>The heads of <see cref="Cases"/>.</summary>
    internal static IReadOnlyCollection<Func<OnnxGraphBuilder, string, string>> AllHeads()
    {
        if (Heads.Count == 0) _ = Cases().ToList();
        return Heads.Values;
    }

    [TestCaseSource(nameof(Cases))]
    public void The_gradient_agrees_with_finite_differences(string name)
    {
        if (Heads.Count == 0) _ = Cases().ToList();
        var (g, a) = GradientCheck.Start(K, H, W, opset: 13);
        string flat = g.Node("Flatten", new[] { Heads[name](g, a) }, "output");
        g.Output(flat, null, null);
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(g.Build());
        int outputs = (int)TensorShapeProbe.Run(proto, "x", new long[] { 1, K, H, W }, new[] { flat })[flat].Skip(1).Aggregate(1L, (p, d) => p * d);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, outputs);

        var result = GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 23, positive: false));

        result.Checked.Should().BeGreaterThanOrEqualTo(10, "Resize is linear in its input: nothing to skip");
        result.WorstError.Should().BeLessThanOrEqualTo(1e-3);
        result.DirectionalError.Should().BeLessThanOrEqualTo(1e-3);
    }

    [TestCase("cubic", "half_pixel", "round_prefer_floor", "*(Resize)*mode 'cubic'*linear and nearest*")]
    [TestCase("nearest", "tf_half_pixel_for_nn", "round_prefer_floor", "*(Resize)*coordinate_transformation_mode 'tf_half_pixel_for_nn'*")]
    [TestCase("nearest", "half_pixel", "ceil", "*(Resize)*nearest_mode 'ceil'*")]
    public void Resizing_it_cannot_differentiate_is_refused_naming_the_node(string mode, string transform, string nearest, string message)
    {
        var (g, a) = GradientCheck.Start(K, H, W, opset: 13);
        string flat = g.Node("Flatten", new[] { Sizes(g, a, 9, 9, Str("mode", mode), Str("coordinate_transformation_mode", transform), Str("nearest_mode", nearest)) }, "output");
        g.Output(flat, null, null);
        PreparedModel model = GradientCheck.Model(g, K, H, W, flat, K * 81);

        Action build = () => GradientCheck.Run(model, GradientCheck.RandomActivations(K * H * W, 23, positive: false));

        build.Should().Throw<ScoreCamException>().WithMessage(message);
    }
}
