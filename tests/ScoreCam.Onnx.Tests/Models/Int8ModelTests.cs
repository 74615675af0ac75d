using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Models;

public class Int8ModelTests
{
    private static string DefaultModel => Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");

    private static (PreparedModel Model, ImageTensor Picture) Default()
    {
        using var explainer = CamExplainer.Open(DefaultModel);
        using var picture = explainer.LoadImage(Repository.Path("onnx-models", "fashion-clutter", "sample.png"));
        return (explainer.Model, explainer.Preprocess(picture));
    }

    private static Dictionary<string, ActivationRange> Ranges(PreparedModel model, ImageTensor picture, Int8Options? options = null)
    {
        using var calibrator = new ActivationCalibrator(model, options ?? new Int8Options(), new InferenceOptions());
        return calibrator.Calibrate(new[] { picture });
    }

    [Test]
    public void Weights_are_symmetric_int8_per_output_channel()
    {
        var (model, picture) = Default();
        ModelProto copy = ModelProto.Parser.ParseFrom(Int8Model.Quantize(model, Ranges(model, picture)));
        var originals = model.Proto.Graph.Initializer.ToDictionary(t => t.Name);
        var initializers = copy.Graph.Initializer.ToDictionary(t => t.Name);
        var producers = copy.Graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var convs = copy.Graph.Node.Where(n => n.OpType == "Conv").ToList();
        convs.Should().HaveCount(model.Proto.Graph.Node.Count(n => n.OpType == "Conv"));
        foreach (NodeProto conv in convs)
        {
            NodeProto dq = producers[conv.Input[1]];
            dq.OpType.Should().Be("DequantizeLinear");
            TensorProto q = initializers[dq.Input[0]];
            q.DataType.Should().Be((int)TensorProto.Types.DataType.Int8);
            sbyte[] values = MemoryMarshal.Cast<byte, sbyte>(q.RawData.Span).ToArray();
            float[] scales = MemoryMarshal.Cast<byte, float>(initializers[dq.Input[1]].RawData.Span).ToArray();
            initializers[dq.Input[2]].RawData.Span.ToArray().Should().OnlyContain(b => b == 0);
            TensorProto original = originals[dq.Input[0][..^"/int8".Length]];
            float[] w = original.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(original.RawData.Span).ToArray() : original.FloatData.ToArray();
            int channels = (int)original.Dims[0], inner = w.Length / channels;
            scales.Should().HaveCount(channels);
            for (int c = 0; c < channels; c++)
            {
                float absMax = 0;
                for (int i = 0; i < inner; i++) absMax = MathF.Max(absMax, MathF.Abs(w[c * inner + i]));
                scales[c].Should().BeApproximately(absMax / 127f, 1e-6f * absMax);
                for (int i = 0; i < inner; i++)
                {
                    values[c * inner + i].Should().BeInRange(-127, 127);
                    (values[c * inner + i] * scales[c]).Should().BeApproximately(w[c * inner + i], 0.5001f * scales[c]);
                }
            }
        }
        copy.Graph.Output.Select(o => o.Name).Should().Equal(model.OutputName);
        copy.Graph.Initializer.Should().NotContain(t => t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Count == 4, "quantized weights are dropped");
    }

    [Test]
    public void Activation_parameters_are_onnx_runtimes_uint8_ones()
    {
        // scale = (max - min) / 255 over the range widened to 0, zero point = round(-min / scale)
        new ActivationRange(-1f, 3f).UInt8Parameters().Should().Be((4f / 255f, (byte)64));
        new ActivationRange(2f, 5f).UInt8Parameters().Should().Be((5f / 255f, (byte)0));
        new ActivationRange(-3f, -1f).UInt8Parameters().Should().Be((3f / 255f, (byte)255));
        new ActivationRange(0f, 0f).UInt8Parameters().Should().Be((1f, (byte)0));
    }

    [Test]
    public void Percentile_ranges_cut_the_same_share_from_each_tail()
    {
        // One value per bin over ±1: 99% keeps all but 0.5% (10.24 bins) a side. The cumulative share first reaches
        // 0.005 in bin 10 (11/2048) and 0.995 in bin 2037 (2038/2048); the range is those bins' left edges.
        var histogram = Enumerable.Repeat(1L, 2048).ToArray();
        ActivationRange r = ActivationCalibrator.PercentileRange(histogram, 1f, 99.0);
        r.Min.Should().BeApproximately(-1f + 10 * 2f / 2048, 1e-6f);
        r.Max.Should().BeApproximately(-1f + 2037 * 2f / 2048, 1e-6f);
    }

    [Test]
    public void Min_max_calibration_gives_the_input_its_own_extremes()
    {
        var (model, picture) = Default();
        var ranges = Ranges(model, picture, new Int8Options { MaskedSamples = 0 });
        ranges[model.Input.Name].Should().Be(new ActivationRange(picture.Data.Min(), picture.Data.Max()));
        ranges.Keys.Should().BeEquivalentTo(Int8Model.CalibratedTensors(model));
        // Masked samples are the picture times masks in [0, 1]: they cannot widen the input's range.
        Ranges(model, picture)[model.Input.Name].Should().Be(ranges[model.Input.Name]);
    }

    [Test]
    public void The_copy_runs_on_onnx_runtimes_int8_kernels()
    {
        var (model, picture) = Default();
        byte[] copy = Int8Model.Quantize(model, Ranges(model, picture));
        using var folder = new TempFolder();
        using var options = new SessionOptions { EnableProfiling = true, ProfileOutputPathPrefix = folder.File("profile"), LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var session = new InferenceSession(copy, options);
        using var input = OrtValue.CreateTensorValueFromMemory(picture.Data, new long[] { 1, picture.Channels, picture.Height, picture.Width });
        using var run = new RunOptions();
        using (session.Run(run, new[] { model.Input.Name }, new[] { input }, new[] { model.OutputName })) { }
        var kernels = JsonDocument.Parse(File.ReadAllText(session.EndProfiling())).RootElement.EnumerateArray()
            .Where(e => e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
            .Select(e => e.GetProperty("args").GetProperty("op_name").GetString()).ToList();
        kernels.Count(k => k == "QLinearConv").Should().Be(model.Proto.Graph.Node.Count(n => n.OpType == "Conv"));
        kernels.Should().Contain("QGemm").And.NotContain("Conv").And.NotContain("FusedConv").And.NotContain("Gemm");
    }

    [Test]
    public void Weights_passed_through_identity_nodes_are_quantized_too()
    {
        // torch.onnx passes shared and folded weights through Identity nodes; the conv must still get its int8 weight.
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 8, 8);
        var w = Enumerable.Range(0, 2 * 3 * 9).Select(i => (i % 7 - 3) / 10f).ToArray();
        string weight = g.Node("Identity", new[] { g.Weights("w", w, 2, 3, 3, 3) }, "w_shared");
        string conv = g.Node("Conv", new[] { x, weight }, "conv", OnnxGraphBuilder.Ints("kernel_shape", 3, 3));
        string features = g.Node("Relu", new[] { conv }, "features");
        string pooled = g.Node("GlobalAveragePool", new[] { features }, "pooled");
        g.Node("Flatten", new[] { pooled }, "output");
        g.Output("output", null, 2);
        PreparedModel model = ModelPreparer.Prepare(g.Build(), "identity", new ModelPreparationOptions { ProbeSize = (8, 8) });
        var ranges = Int8Model.CalibratedTensors(model).ToDictionary(t => t, _ => new ActivationRange(-1f, 1f));
        ModelProto copy = ModelProto.Parser.ParseFrom(Int8Model.Quantize(model, ranges));
        NodeProto quantized = copy.Graph.Node.Single(n => n.OpType == "Conv");
        copy.Graph.Node.Single(n => n.Output.Contains(quantized.Input[1])).OpType.Should().Be("DequantizeLinear");
        copy.Graph.Node.Should().NotContain(n => n.OpType == "Identity", "the float weight is read by nothing any more");
        Int8Model.CalibratedTensors(model).Should().Equal(new[] { "input" }, "after the last quantized op the tensors stay float32");
    }

    [Test]
    public void Models_before_opset_13_are_refused_with_the_reason()
    {
        var g = new OnnxGraphBuilder(opset: 12);
        string x = g.Input("input", null, 3, 8, 8);
        string conv = g.Node("Conv", new[] { x, g.Weights("w", new float[2 * 3 * 9], 2, 3, 3, 3) }, "features", OnnxGraphBuilder.Ints("kernel_shape", 3, 3));
        string pooled = g.Node("GlobalAveragePool", new[] { conv }, "pooled");
        g.Node("Flatten", new[] { pooled }, "output");
        g.Output("output", null, 2);
        PreparedModel model = ModelPreparer.Prepare(g.Build(), "opset12", new ModelPreparationOptions { ProbeSize = (8, 8) });
        var act = () => Int8Model.CalibratedTensors(model);
        act.Should().Throw<ScoreCamException>().WithMessage("*opset 12*opset 13 or later*");
    }
}
