using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// An int8 copy of a prepared model in ONNX's QDQ form (QuantizeLinear / DequantizeLinear pairs around float ops), as
/// ONNX Runtime's static quantizer writes it for x86 (U8S8): the weights of Conv, Gemm and MatMul symmetric int8 per
/// output channel, their biases int32 at the input scale times the channel's weight scale, their activation inputs
/// and outputs asymmetric uint8 per tensor from calibrated ranges. ONNX Runtime's CPU provider fuses each
/// DequantizeLinear → op → QuantizeLinear group into one int8 kernel (QLinearConv, QGemm, QLinearMatMul). An output
/// followed by Relu is quantized after the Relu, with zero point 0, which ONNX Runtime folds into the kernel. Tensors
/// between the last quantized ops and the score output stay float32, so the scores carry no quantization step of
/// their own. The copy outputs the scores only: the activations are read from the float32 model.
/// </summary>
internal static class Int8Model
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;
    private const int Int8Type = (int)TensorProto.Types.DataType.Int8, UInt8Type = (int)TensorProto.Types.DataType.Uint8;
    private const int Int32Type = (int)TensorProto.Types.DataType.Int32;
    // Per-axis DequantizeLinear needs opset 13.
    private const long MinOpset = 13;

    /// <summary>
    /// Raised whenever <see cref="Quantize"/> writes a different graph for the same model and ranges, so copies cached
    /// on disk by an earlier version are not reused (2: weights passed through Identity nodes are quantized).
    /// </summary>
    public const int Version = 2;

    /// <summary>The tensors whose ranges <see cref="Quantize"/> needs, in graph order.</summary>
    public static IReadOnlyList<string> CalibratedTensors(PreparedModel model) => Plan.Of(model).Tensors;

    /// <summary>The QDQ copy; <paramref name="ranges"/> holds a range for every one of <see cref="CalibratedTensors"/>.</summary>
    public static byte[] Quantize(PreparedModel model, IReadOnlyDictionary<string, ActivationRange> ranges)
    {
        Plan plan = Plan.Of(model);
        ModelProto proto = model.Proto.Clone();
        GraphProto graph = proto.Graph;
        var outputs = graph.Output.Where(o => o.Name == model.OutputName).ToList();
        graph.Output.Clear();
        graph.Output.AddRange(outputs);
        var initializers = FloatConstants(graph);

        // One QuantizeLinear → DequantizeLinear pair per tensor; every reader of the tensor reads the dequantized copy.
        var scales = new Dictionary<string, float>(StringComparer.Ordinal);
        var tensorPairs = new Dictionary<string, NodeProto[]>(StringComparer.Ordinal);
        foreach (string t in plan.Tensors)
        {
            if (!ranges.TryGetValue(t, out ActivationRange range))
                throw new InvalidOperationException($"No calibrated range for tensor '{t}'.");
            var (scale, zeroPoint) = range.UInt8Parameters();
            scales[t] = scale;
            graph.Initializer.Add(Scalar(t + "/scale", scale));
            graph.Initializer.Add(new TensorProto { Name = t + "/zero_point", DataType = UInt8Type, RawData = ByteString.CopyFrom(zeroPoint) });
            tensorPairs[t] = new[]
            {
                Node("QuantizeLinear", t + "/quantize", new[] { t, t + "/scale", t + "/zero_point" }, t + "/uint8"),
                Node("DequantizeLinear", t + "/dequantize", new[] { t + "/uint8", t + "/scale", t + "/zero_point" }, t + "/dq"),
            };
        }
        foreach (NodeProto node in graph.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (tensorPairs.ContainsKey(node.Input[i])) node.Input[i] = node.Input[i] + "/dq";

        // Weights and biases: integer initializers and their DequantizeLinear, placed before the node that reads them.
        var before = new Dictionary<NodeProto, List<NodeProto>>(ReferenceEqualityComparer.Instance);
        var quantizedWeights = new Dictionary<string, (string Name, float[] Scales)>(StringComparer.Ordinal);
        foreach (var (at, axis) in plan.Nodes)
        {
            NodeProto node = graph.Node[at], original = model.Proto.Graph.Node[at];
            var added = before[node] = new List<NodeProto>();
            string weight = node.Input[1];
            if (!quantizedWeights.TryGetValue(weight + "#" + axis, out var w))
            {
                w = QuantizeWeight(graph, weight, initializers[weight], axis, added);
                quantizedWeights[weight + "#" + axis] = w;
            }
            float inputScale = scales[original.Input[0]];
            node.Input[1] = w.Name;
            if (node.Input.Count > 2 && node.Input[2].Length > 0)
                node.Input[2] = QuantizeBias(graph, initializers[node.Input[2]], node.Name + "/" + node.Input[2], inputScale, w.Scales, added);
        }

        var ordered = new List<NodeProto>(graph.Node.Count * 2);
        foreach (string input in graph.Input.Select(i => i.Name).Where(tensorPairs.ContainsKey)) ordered.AddRange(tensorPairs[input]);
        foreach (NodeProto node in graph.Node)
        {
            if (before.TryGetValue(node, out var dq)) ordered.AddRange(dq);
            ordered.Add(node);
            foreach (string output in node.Output)
                if (tensorPairs.TryGetValue(output, out var pair)) ordered.AddRange(pair);
        }
        graph.Node.Clear();
        graph.Node.AddRange(ordered);
        // The float weights that were quantized (and the Identity nodes that passed them on) are read by nothing any more.
        var read = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (NodeProto unused in graph.Node.Where(n => n.OpType is "Identity" or "Constant" && !n.Output.Any(read.Contains)).ToList())
            graph.Node.Remove(unused);
        read = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (TensorProto unused in graph.Initializer.Where(t => !read.Contains(t.Name)).ToList()) graph.Initializer.Remove(unused);
        return proto.ToByteArray();
    }

    /// <summary>
    /// Float initializers by name, and the tensors that Identity nodes (chains of them) or Constant nodes make of them:
    /// exporters such as torch.onnx pass shared or folded weights through Identity.
    /// </summary>
    private static Dictionary<string, TensorProto> FloatConstants(GraphProto graph)
    {
        var constants = graph.Initializer.Where(t => t.DataType == FloatType).ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType == "Identity" && constants.TryGetValue(node.Input[0], out TensorProto? source)) constants[node.Output[0]] = source;
            else if (node.OpType == "Constant" && node.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { DataType: FloatType } value)
                constants[node.Output[0]] = value;
        }
        return constants;
    }

    /// <summary>Symmetric int8 per output channel (scale = max |w| / 127, zero point 0), as ONNX Runtime's quantizer does.</summary>
    private static (string Name, float[] Scales) QuantizeWeight(GraphProto graph, string tensor, TensorProto weight, int axis, List<NodeProto> nodes)
    {
        float[] values = Values(weight);
        long[] dims = weight.Dims.ToArray();
        int channels = (int)dims[axis];
        // Element i belongs to channel (i / inner) % channels.
        int inner = (int)dims.Skip(axis + 1).Aggregate(1L, (a, d) => a * d);
        var absMax = new float[channels];
        for (int i = 0; i < values.Length; i++)
        {
            int c = i / inner % channels;
            absMax[c] = MathF.Max(absMax[c], MathF.Abs(values[i]));
        }
        float[] scales = absMax.Select(m => m > 0 ? m / 127f : 1f).ToArray();
        var q = new sbyte[values.Length];
        for (int i = 0; i < values.Length; i++)
            q[i] = (sbyte)Math.Clamp(MathF.Round(values[i] / scales[i / inner % channels]), -127f, 127f);

        string name = tensor + "/int8";
        var quantized = new TensorProto { Name = name, DataType = Int8Type, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(q.AsSpan())) };
        quantized.Dims.AddRange(dims);
        graph.Initializer.Add(quantized);
        graph.Initializer.Add(Vector(name + "/scale", scales));
        graph.Initializer.Add(Zeros(name + "/zero_point", Int8Type, channels, 1));
        nodes.Add(Node("DequantizeLinear", name + "/dequantize", new[] { name, name + "/scale", name + "/zero_point" }, name + "/dq", axis));
        return (name + "/dq", scales);
    }

    /// <summary>Bias as int32 at scale = input scale × the channel's weight scale, zero point 0 (what QLinearConv and QGemm add).</summary>
    private static string QuantizeBias(GraphProto graph, TensorProto bias, string name, float inputScale, float[] weightScales, List<NodeProto> nodes)
    {
        float[] values = Values(bias);
        if (values.Length != weightScales.Length)
            throw new InvalidOperationException($"Bias '{bias.Name}' has {values.Length} values for {weightScales.Length} output channels.");
        var scales = new float[values.Length];
        var q = new int[values.Length];
        for (int c = 0; c < values.Length; c++)
        {
            scales[c] = inputScale * weightScales[c];
            q[c] = (int)Math.Clamp(Math.Round(values[c] / (double)scales[c], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        }
        name += "/int32";
        var quantized = new TensorProto { Name = name, DataType = Int32Type, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(q.AsSpan())) };
        quantized.Dims.Add(values.Length);
        graph.Initializer.Add(quantized);
        graph.Initializer.Add(Vector(name + "/scale", scales));
        graph.Initializer.Add(Zeros(name + "/zero_point", Int32Type, values.Length, 4));
        nodes.Add(Node("DequantizeLinear", name + "/dequantize", new[] { name, name + "/scale", name + "/zero_point" }, name + "/dq", 0));
        return name + "/dq";
    }

    private static float[] Values(TensorProto t)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new ScoreCamException($"Tensor '{t.Name}' keeps its data in an external file; an int8 copy is made only of models whose weights are inside the .onnx file.");
        return t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
    }

    private static TensorProto Scalar(string name, float value) => new() { Name = name, DataType = FloatType, FloatData = { value } };

    private static TensorProto Vector(string name, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = FloatType, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(values.Length);
        return t;
    }

    private static TensorProto Zeros(string name, int type, int count, int elementBytes)
    {
        var t = new TensorProto { Name = name, DataType = type, RawData = ByteString.CopyFrom(new byte[count * elementBytes]) };
        t.Dims.Add(count);
        return t;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, int? axis = null)
    {
        var node = new NodeProto { OpType = op, Name = "scorecam/" + name, Input = { inputs }, Output = { output } };
        if (axis is { } a) node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = a });
        return node;
    }

    /// <summary>Which nodes are quantized (with their weights' output-channel axis) and which tensors get a QDQ pair.</summary>
    private sealed record Plan(IReadOnlyList<(int Index, int Axis)> Nodes, IReadOnlyList<string> Tensors)
    {
        public static Plan Of(PreparedModel model)
        {
            ModelProto proto = model.Proto;
            long opset = proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
            if (opset < MinOpset)
                throw new ScoreCamException(
                    $"Model '{model.Source}' uses ONNX opset {opset}; an int8 copy needs opset {MinOpset} or later (per-channel DequantizeLinear). Re-export the model with opset 13 or later, or run it in float32.");
            var index = new GraphIndex(proto.Graph);
            var weights = FloatConstants(proto.Graph);
            var nodes = new List<(int, int)>();
            for (int i = 0; i < proto.Graph.Node.Count; i++)
                if (WeightAxis(proto.Graph.Node[i], weights, index) is { } axis) nodes.Add((i, axis));

            // Tensors from which the score output is reached without passing a quantized node stay float32.
            var quantized = new HashSet<NodeProto>(nodes.Select(n => proto.Graph.Node[n.Item1]), ReferenceEqualityComparer.Instance);
            var head = new HashSet<string>(StringComparer.Ordinal);
            var stack = new Stack<string>(new[] { model.OutputName });
            while (stack.Count > 0)
            {
                string t = stack.Pop();
                if (!head.Add(t) || index.ProducerOf(t) is not { } producer || quantized.Contains(producer)) continue;
                foreach (string input in producer.Input.Where(i => i.Length > 0)) stack.Push(input);
            }

            var tensors = new HashSet<string>(StringComparer.Ordinal);
            foreach (NodeProto node in quantized)
            {
                tensors.Add(node.Input[0]);
                string output = node.Output[0];
                // Quantized after a Relu that alone reads the output: a zero point of 0 lets ONNX Runtime drop the Relu.
                if (index.Consumers.TryGetValue(output, out var readers) && readers.Count == 1 && proto.Graph.Node[readers[0]].OpType == "Relu"
                    && output != model.OutputName)
                    output = proto.Graph.Node[readers[0]].Output[0];
                if (!head.Contains(output)) tensors.Add(output);
            }
            var order = proto.Graph.Input.Select(i => i.Name).Concat(proto.Graph.Node.SelectMany(n => n.Output)).ToList();
            return new Plan(nodes, order.Where(tensors.Contains).Distinct().ToList());
        }

        /// <summary>The output-channel axis of a node's constant float weight, or null when the node is not quantized.</summary>
        private static int? WeightAxis(NodeProto node, Dictionary<string, TensorProto> weights, GraphIndex index)
        {
            if (node.Input.Count < 2 || !weights.TryGetValue(node.Input[1], out TensorProto? w) || weights.ContainsKey(node.Input[0])) return null;
            bool FloatBias(int channels) => node.Input.Count < 3 || node.Input[2].Length == 0
                || (weights.TryGetValue(node.Input[2], out TensorProto? b) && b.Dims.Count == 1 && b.Dims[0] == channels);
            long Int(string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;
            float Float(string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.F ?? 1f;
            switch (node.OpType)
            {
                case "Conv" when w.Dims.Count >= 3 && FloatBias((int)w.Dims[0]):
                    return 0;
                case "Gemm" when w.Dims.Count == 2 && Int("transA", 0) == 0 && Float("alpha") == 1f && Float("beta") == 1f:
                    int axis = Int("transB", 0) == 1 ? 0 : 1;
                    return FloatBias((int)w.Dims[axis]) ? axis : null;
                case "MatMul" when w.Dims.Count == 2:
                    return 1;
                default:
                    return null;
            }
        }
    }
}
