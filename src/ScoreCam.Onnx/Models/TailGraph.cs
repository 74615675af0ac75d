using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// The model from its target layer on: the nodes the output needs, back to the layer's activations A, as a model with
/// the input <c>activations</c> (N×K×h×w) and the output <c>output</c> (the model's output rows). Ablation-CAM and
/// Recipro-CAM run altered copies of A through it in batches, without running the part before the layer again.
/// </summary>
internal static class TailGraph
{
    public const string ActivationsInput = "activations", Output = "output";

    /// <summary>The tail of <paramref name="model"/>, serialized; a clear error when the output reads the image (or another input) other than through A.</summary>
    public static byte[] Build(PreparedModel model)
    {
        GraphProto graph = model.Proto.Graph;
        var index = new GraphIndex(graph);
        string layer = model.Layer.TensorName;
        var needed = new SortedSet<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        stack.Push(model.OutputName);
        while (stack.Count > 0)
        {
            string tensor = stack.Pop();
            if (tensor.Length == 0 || !seen.Add(tensor) || tensor == layer || index.Initializers.Contains(tensor)) continue;
            if (!index.Producer.TryGetValue(tensor, out int i))
                throw new ScoreCamException(
                    $"The output '{model.OutputName}' of model '{model.Source}' reads the input '{tensor}' other than through the target layer " +
                    $"'{layer}' (a skip connection around it, or a second input), so the model cannot be run from the layer on. Choose a later target layer, such as a block's output.");
            needed.Add(i);
            foreach (string input in graph.Node[i].Input) stack.Push(input);
        }
        var tail = new ModelProto { IrVersion = model.Proto.IrVersion, ProducerName = "ScoreCam.Onnx tail graph", Graph = new GraphProto { Name = "tail" } };
        tail.OpsetImport.AddRange(model.Proto.OpsetImport.Select(o => o.Clone()));
        GraphProto g = tail.Graph;
        g.Input.Add(Value(ActivationsInput, model.Layer.Channels, model.Layer.Height, model.Layer.Width));
        if (layer != ActivationsInput) g.Node.Add(Identity(ActivationsInput, layer));
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (int i in needed)
        {
            g.Node.Add(graph.Node[i].Clone());
            used.UnionWith(graph.Node[i].Input);
        }
        g.Initializer.AddRange(graph.Initializer.Where(t => used.Contains(t.Name)).Select(t => t.Clone()));
        if (model.OutputName != Output) g.Node.Add(Identity(model.OutputName, Output));
        g.Output.Add(TensorShapeProbe.FloatOutput(Output));
        return tail.ToByteArray();
    }

    private static NodeProto Identity(string input, string output)
    {
        var node = new NodeProto { OpType = "Identity", Name = $"tail/{output}" };
        node.Input.Add(input);
        node.Output.Add(output);
        return node;
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }
}
