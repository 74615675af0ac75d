using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>One measured kernel: what it computed, its operations per run and its best and median throughput.</summary>
internal sealed record PeakKernel(string Name, bool Int8, long Operations, double BestGigaOpsPerSecond, double MedianGigaOpsPerSecond);

/// <summary>
/// The throughput ONNX Runtime's CPU provider attains on this machine with large, regular work, the ceiling a model's
/// forward passes can be compared with: a float32 MatMul and a uint8 × int8 MatMulInteger of 2048³, and a 1×1 and a
/// 3×3 (padded) convolution of 256 to 256 channels over a batch of 8 at 56×56 in float32 (Conv) and int8
/// (QLinearConv), each in its own session with the given intra-op threads and full graph optimisation. Operations count a multiply-add
/// as two.
/// </summary>
internal static class AttainablePeak
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float, UInt8Type = (int)TensorProto.Types.DataType.Uint8;
    private const int Int8Type = (int)TensorProto.Types.DataType.Int8;
    private const int Size = 2048, Channels = 256, Batch = 8, Side = 56;

    /// <param name="threads">Intra-op threads (0: one per physical core), as the explainer's sessions use.</param>
    /// <param name="runs">Timed runs per kernel after one warm-up; the best is the attainable figure.</param>
    public static IReadOnlyList<PeakKernel> Measure(int threads = 0, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var random = new Random(1);
        long matmul = 2L * Size * Size * Size, conv = 2L * Batch * Channels * Channels * Side * Side, conv3 = 9 * conv;
        long[] image = { Batch, Channels, Side, Side };
        return new[]
        {
            Time("MatMul float32 2048³", false, matmul, MatMul(integer: false, random), "a", new long[] { Size, Size }, FloatType, threads, runs),
            Time("MatMulInteger uint8×int8 2048³", true, matmul, MatMul(integer: true, random), "a", new long[] { Size, Size }, UInt8Type, threads, runs),
            Time("Conv 1×1 float32 256→256, 8×56×56", false, conv, Convolution(integer: false, 1, random), "x", image, FloatType, threads, runs),
            Time("QLinearConv 1×1 uint8×int8 256→256, 8×56×56", true, conv, Convolution(integer: true, 1, random), "x", image, UInt8Type, threads, runs),
            // VGG's and ResNet's 3×3 convolutions run MLAS's convolution path, not a plain GEMM: on Zen 5 VGG16's floor outran the 1×1 and MatMul probes.
            Time("Conv 3×3 float32 256→256, 8×56×56", false, conv3, Convolution(integer: false, 3, random), "x", image, FloatType, threads, runs),
            Time("QLinearConv 3×3 uint8×int8 256→256, 8×56×56", true, conv3, Convolution(integer: true, 3, random), "x", image, UInt8Type, threads, runs),
        };
    }

    private static PeakKernel Time(string name, bool int8, long operations, ModelProto model, string input, long[] shape, int type, int threads, int runs)
    {
        using SessionOptions options = OrtRuntime.Options(null);
        options.IntraOpNumThreads = threads;
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        using var session = new InferenceSession(model.ToByteArray(), options);
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var random = new Random(2);
        using OrtValue value = type == FloatType
            ? OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, (int)count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, (int)count).Select(_ => (byte)random.Next(256)).ToArray(), shape);
        using var runOptions = new RunOptions();
        string[] inputs = { input }, outputs = { "y" };
        var seconds = new List<double>();
        for (int run = 0; run <= runs; run++)
        {
            long start = Stopwatch.GetTimestamp();
            using (session.Run(runOptions, inputs, new[] { value }, outputs)) { }
            if (run > 0) seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        seconds.Sort();
        return new PeakKernel(name, int8, operations, operations / seconds[0] / 1e9, operations / seconds[seconds.Count / 2] / 1e9);
    }

    private static ModelProto MatMul(bool integer, Random random)
    {
        var graph = new GraphProto { Name = "peak" };
        graph.Input.Add(Value("a", integer ? UInt8Type : FloatType, Size, Size));
        graph.Initializer.Add(Weights("b", integer, random, Size, Size));
        if (integer)
        {
            graph.Initializer.Add(Scalar("a_zero", UInt8Type, 128));
            graph.Initializer.Add(Scalar("b_zero", Int8Type, 0));
            graph.Node.Add(Node("MatMulInteger", new[] { "a", "b", "a_zero", "b_zero" }));
        }
        else graph.Node.Add(Node("MatMul", new[] { "a", "b" }));
        graph.Output.Add(Value("y", integer ? (int)TensorProto.Types.DataType.Int32 : FloatType, Size, Size));
        return Model(graph);
    }

    private static ModelProto Convolution(bool integer, int kernel, Random random)
    {
        var graph = new GraphProto { Name = "peak" };
        graph.Input.Add(Value("x", integer ? UInt8Type : FloatType, Batch, Channels, Side, Side));
        graph.Initializer.Add(Weights("w", integer, random, Channels, Channels, kernel, kernel));
        if (integer)
        {
            graph.Initializer.Add(Scalar("x_scale", FloatType, 0.02f));
            graph.Initializer.Add(Scalar("x_zero", UInt8Type, 128));
            graph.Initializer.Add(Scalar("w_scale", FloatType, 0.01f));
            graph.Initializer.Add(Scalar("w_zero", Int8Type, 0));
            graph.Initializer.Add(Scalar("y_scale", FloatType, 0.05f));
            graph.Initializer.Add(Scalar("y_zero", UInt8Type, 128));
            graph.Node.Add(Padded(Node("QLinearConv", new[] { "x", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero" }), kernel));
        }
        else graph.Node.Add(Padded(Node("Conv", new[] { "x", "w" }), kernel));
        graph.Output.Add(Value("y", integer ? UInt8Type : FloatType, Batch, Channels, Side, Side));
        return Model(graph);
    }

    private static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        return model;
    }

    private static NodeProto Node(string op, string[] inputs) => new() { OpType = op, Name = op, Input = { inputs }, Output = { "y" } };

    private static NodeProto Padded(NodeProto node, int kernel)
    {
        int pad = kernel / 2; // "same" output size, so both probes write 8×256×56×56
        node.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { pad, pad, pad, pad } });
        return node;
    }

    private static ValueInfoProto Value(string name, int type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = type, Shape = shape } } };
    }

    private static TensorProto Weights(string name, bool integer, Random random, params long[] dims)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        var t = new TensorProto { Name = name, DataType = integer ? Int8Type : FloatType };
        t.Dims.AddRange(dims);
        t.RawData = integer
            ? ByteString.CopyFrom(Enumerable.Range(0, (int)count).Select(_ => (byte)(sbyte)random.Next(-127, 128)).ToArray())
            : ByteString.CopyFrom(Enumerable.Range(0, (int)count).SelectMany(_ => BitConverter.GetBytes((float)random.NextDouble() - 0.5f)).ToArray());
        return t;
    }

    private static TensorProto Scalar(string name, int type, float value) => type == FloatType
        ? new TensorProto { Name = name, DataType = type, FloatData = { value } }
        : new TensorProto { Name = name, DataType = type, RawData = ByteString.CopyFrom(new[] { type == Int8Type ? (byte)(sbyte)value : (byte)value }) };
}
