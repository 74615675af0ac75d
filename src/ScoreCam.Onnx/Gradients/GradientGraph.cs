using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// Reverse-mode differentiation of a prepared model's head (the subgraph from the target layer's activations A to
/// the class scores), emitted as an ONNX model that ONNX Runtime runs like any other: inputs <c>activations</c>
/// (N×K×h×w) and <c>seed</c> (N×C), outputs <c>logits</c> and <c>grad_activations</c> = d Σ(seed ⊙ logits) / dA.
/// For a model that ends in Softmax, <c>logits</c> are the Softmax's input (pre-softmax scores).
/// One <see cref="IGradientRule"/> per op type; saved next to the model as NAME.grad.onnx.
/// </summary>
public static class GradientGraph
{
    public const string ActivationsInput = "activations", SeedInput = "seed", LogitsOutput = "logits", GradientOutput = "grad_activations";
    private const string Prefix = "scorecam.grad.";
    /// <summary>Metadata key: "true" when <c>logits</c> are the pre-softmax scores of a model that outputs probabilities.</summary>
    internal const string PreSoftmaxKey = Prefix + "presoftmax";
    private const int MinimumOpset = 7, GradientOpset = 16; // numpy broadcasting from 7; ScatterElements' reduction = add needs 16

    /// <summary>Builds the gradient graph of <paramref name="model"/>'s head; serialized ONNX.</summary>
    public static byte[] Build(PreparedModel model) => BuildProto(model).ToByteArray();

    /// <summary>Builds and writes the gradient graph (atomically).</summary>
    public static void Save(PreparedModel model, string path) => AtomicFile.Write(path, Build(model));

    /// <summary>Where the gradient graph of the model at <paramref name="modelPath"/> lives: NAME.grad.onnx (NAME without .cam).</summary>
    public static string DefaultPath(string modelPath)
    {
        string name = Path.GetFileNameWithoutExtension(modelPath);
        if (name.EndsWith(".cam", StringComparison.Ordinal)) name = name[..^4];
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, name + ".grad.onnx");
    }

    /// <summary>
    /// The gradient graph for <paramref name="model"/>: NAME.grad.onnx next to the model's file when it exists and
    /// was made for the same target layer and output, else built in memory.
    /// </summary>
    public static byte[] Load(PreparedModel model)
    {
        string? path = null;
        try { path = File.Exists(model.Source) ? DefaultPath(model.Source) : null; }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException) { }
        if (path is not null && File.Exists(path))
        {
            byte[] bytes = File.ReadAllBytes(path);
            try
            {
                ModelProto saved = ModelProto.Parser.ParseFrom(bytes);
                var meta = saved.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                if (meta.GetValueOrDefault(Prefix + "layer") == model.Layer.TensorName && meta.GetValueOrDefault(Prefix + "output") == Differentiated(model).Tensor)
                    return bytes;
            }
            catch (InvalidProtocolBufferException) { }
        }
        return Build(model);
    }

    /// <summary>
    /// The tensor the graph differentiates: the model's output, or for a model whose output is a Softmax (possibly
    /// reshaped) the Softmax's input, the pre-softmax logits that Grad-CAM differentiates.
    /// </summary>
    internal static (string Tensor, bool PreSoftmax) Differentiated(PreparedModel model)
    {
        if (model.OutputKind != ModelOutputKind.Probabilities) return (model.OutputName, false);
        var index = new GraphIndex(model.Proto.Graph);
        NodeProto? node = index.ProducerOf(model.OutputName);
        while (node is not null && node.OpType is "Identity" or "Flatten" or "Reshape" or "Squeeze")
            node = index.ProducerOf(node.Input[0]);
        return node is { OpType: "Softmax" } && Attr.GetInt(node, "axis", -1) is 1 or -1 ? (node.Input[0], true) : (model.OutputName, false);
    }

    internal static ModelProto BuildProto(PreparedModel model)
    {
        var (graph, head, layer) = Head(model, forGradients: true);
        var differentiable = new GraphIndex(graph.Graph).DataDerivedFrom(layer);
        long[] layerShape = { 1, model.Layer.Channels, model.Layer.Height, model.Layer.Width };
        var shapes = TensorShapeProbe.Run(graph, ActivationsInput, layerShape,
            head.SelectMany(n => n.Output).Where(o => o != layer && differentiable.Contains(o)).Distinct().ToArray());
        shapes[layer] = layerShape;

        var g = graph.Graph;
        g.Input.Add(Value(SeedInput, "N", model.OutputSize));
        var e = new GradientEmitter(g, differentiable, shapes);
        var (logits, preSoftmax) = Differentiated(model);
        e.Accumulate(logits, e.Reshape(SeedInput, e.ShapeOf(logits)));
        for (int i = head.Count - 1; i >= 0; i--)
        {
            NodeProto node = head[i];
            if (!node.Output.Any(o => e.NeedsGradient(o) && e.GradientOf(o) is not null)) continue;
            e.Current = node;
            IGradientRule rule = GradientRules.For(node.Domain, node.OpType) ?? throw new ScoreCamException(
                $"Cannot build the gradient graph: node '{node.Name}' ({(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}) between the target layer " +
                $"'{model.Layer.TensorName}' and the output '{model.OutputName}' has no differentiation rule. Supported ops: " +
                $"{string.Join(", ", GradientRules.OpTypes.Order(StringComparer.Ordinal))}. Choose a later target layer (--layer) or convert the op.");
            rule.Emit(node, e);
        }
        e.Current = null;
        string gradient = e.GradientOf(layer) ?? throw new ScoreCamException(
            $"The output '{model.OutputName}' does not depend on the target layer '{model.Layer.TensorName}': there is no gradient to compute.");
        g.Node.Add(Node("Identity", gradient, GradientOutput));
        g.Output.Add(Value(GradientOutput, "N", model.Layer.Channels, model.Layer.Height, model.Layer.Width));
        graph.MetadataProps.Add(new StringStringEntryProto { Key = Prefix + "layer", Value = model.Layer.TensorName });
        graph.MetadataProps.Add(new StringStringEntryProto { Key = Prefix + "output", Value = logits });
        graph.MetadataProps.Add(new StringStringEntryProto { Key = PreSoftmaxKey, Value = preSoftmax ? "true" : "false" });
        return graph;
    }

    /// <summary>The head alone as a model: <c>activations</c> in, <c>logits</c> out (tests run it on perturbed activations).</summary>
    internal static ModelProto HeadModel(PreparedModel model) => Head(model, forGradients: false).Model;

    /// <summary>
    /// Cuts the head out: the nodes the output needs, back to the target layer. Anything else they read must be an
    /// initializer or a constant computed from initializers; a graph input or a tensor computed before the target
    /// layer is an error.
    /// </summary>
    private static (ModelProto Model, List<NodeProto> Head, string Layer) Head(PreparedModel prepared, bool forGradients)
    {
        ModelProto source = prepared.Proto;
        var index = new GraphIndex(source.Graph);
        string layer = prepared.Layer.TensorName, output = Differentiated(prepared).Tensor;
        long opset = source.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        if (opset < MinimumOpset)
            throw new ScoreCamException(
                $"Model '{prepared.Source}' uses ONNX opset {opset}; gradient graphs need opset {MinimumOpset} or later (numpy-style broadcasting). Re-export the model with a newer opset.");

        var needed = new SortedSet<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(string Tensor, string? Reader)>();
        stack.Push((output, null));
        while (stack.Count > 0)
        {
            var (tensor, reader) = stack.Pop();
            if (!seen.Add(tensor) || tensor == layer || index.Initializers.Contains(tensor)) continue;
            if (!index.Producer.TryGetValue(tensor, out int i))
                throw new ScoreCamException(
                    $"Cannot build the gradient graph: the output '{output}' depends on the model input '{tensor}' (read by node '{reader}') other than through " +
                    $"the target layer '{layer}', e.g. through a skip connection around it. Gradient graphs need a head that depends only on the target " +
                    "layer's activations and constants; choose a later target layer (--layer), such as a block's output.");
            NodeProto producer = source.Graph.Node[i];
            needed.Add(i);
            foreach (string input in producer.Input.Where(t => t.Length > 0)) stack.Push((input, producer.Name));
        }
        var model = new ModelProto
        {
            IrVersion = forGradients ? Math.Max(source.IrVersion, 8) : source.IrVersion,
            ProducerName = "ScoreCam.Onnx gradient graph",
            Graph = new GraphProto { Name = forGradients ? "gradient" : "head" },
        };
        foreach (OperatorSetIdProto o in source.OpsetImport)
            model.OpsetImport.Add(o.Domain is "" or "ai.onnx" ? new OperatorSetIdProto { Domain = o.Domain, Version = forGradients ? Math.Max(o.Version, GradientOpset) : o.Version } : o.Clone());
        var g = model.Graph;
        g.Input.Add(Value(ActivationsInput, "N", prepared.Layer.Channels, prepared.Layer.Height, prepared.Layer.Width));
        if (layer != ActivationsInput) g.Node.Add(Node("Identity", ActivationsInput, layer));
        var head = new List<NodeProto>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        int fresh = 0;
        foreach (int i in needed)
        {
            NodeProto original = source.Graph.Node[i].Clone();
            // Older opsets: rewrite into the gradient graph's opset with the same meaning.
            var upgraded = forGradients ? OpsetUpgrade.Apply(original, opset, Constant) : new[] { original };
            foreach (NodeProto node in upgraded)
            {
                if (forGradients && node.OpType == "MaxPool" && node.Domain is "" or "ai.onnx")
                {
                    while (node.Output.Count < 2) node.Output.Add("");
                    if (node.Output[1].Length == 0) node.Output[1] = $"grad/maxpool_indices_{fresh++}";
                }
                used.UnionWith(node.Input);
                g.Node.Add(node);
                head.Add(node);
            }
        }
        string Constant(TensorProto value)
        {
            value.Name = $"upgrade/const_{fresh++}";
            g.Initializer.Add(value);
            return value.Name;
        }
        g.Initializer.AddRange(source.Graph.Initializer.Where(t => used.Contains(t.Name)).Select(t => t.Clone()));
        if (output != LogitsOutput) g.Node.Add(Node("Identity", output, LogitsOutput));
        g.Output.Add(TensorShapeProbe.FloatOutput(LogitsOutput));
        return (model, head, layer);
    }

    private static NodeProto Node(string op, string input, string output)
    {
        var node = new NodeProto { OpType = op, Name = $"grad/{output}" };
        node.Input.Add(input);
        node.Output.Add(output);
        return node;
    }

    private static ValueInfoProto Value(string name, string batch, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
