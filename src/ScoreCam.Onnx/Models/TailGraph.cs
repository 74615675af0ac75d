using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// The model from its target layer on, as a model with the input <c>activations</c> (N×K×h×w maps) and the output
/// <c>output</c> (the model's output rows). Ablation-CAM and Recipro-CAM run altered copies of A through it in batches.
/// Where the output reads only A, the tail is the nodes after it alone. Where it reads more (a transformer's residual
/// stream around its norm1, the input's shape) or A is not N×K×h×w (tokens, channels-last maps), the tail is the
/// whole model with the image as a second input: the altered maps, laid out as the layer (tokens keep their prefix
/// tokens as computed), replace A for every node that reads it, and every other path keeps its value for the image.
/// </summary>
internal static class TailGraph
{
    public const string ActivationsInput = "activations", Output = "output";
    private const string AlteredSuffix = "/scorecam_altered";

    /// <summary>
    /// The first graph input (not a fed input or an initializer) that the model's output reads other than through
    /// <paramref name="tensor"/>, with the node that reads it; null when the part after <paramref name="tensor"/> is a cut.
    /// </summary>
    public static (string Input, string Reader)? Bypass(PreparedModel model, string tensor)
    {
        GraphProto graph = model.Proto.Graph;
        var index = new GraphIndex(graph);
        var fed = model.FedInputs.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(string Tensor, string Reader)>();
        stack.Push((model.OutputName, ""));
        while (stack.Count > 0)
        {
            var (t, reader) = stack.Pop();
            if (t.Length == 0 || !seen.Add(t) || t == tensor || index.Initializers.Contains(t)) continue;
            if (!index.Producer.TryGetValue(t, out int i))
            {
                if (fed.Contains(t)) continue;
                return (t, reader);
            }
            foreach (string input in graph.Node[i].Input.Concat(GraphIndex.OuterScopeReads(graph.Node[i]))) stack.Push((input, graph.Node[i].Name));
        }
        return null;
    }

    /// <summary>True when the tail runs the whole model from the image with the layer's tensor replaced.</summary>
    public static bool TakesImage(PreparedModel model) => model.Layer.Layout != LayerLayout.ChannelsFirst || Bypass(model, model.Layer.TensorName) is not null;

    /// <summary>The tail of <paramref name="model"/>, serialized.</summary>
    public static byte[] Build(PreparedModel model) => (TakesImage(model) ? WholeModel(model) : AfterLayer(model)).ToByteArray();

    private static ModelProto AfterLayer(PreparedModel model)
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
            needed.Add(index.Producer[tensor]);
            NodeProto producer = graph.Node[index.Producer[tensor]];
            // An If's branches and a Loop's body read tensors of this graph by name, besides the node's inputs.
            foreach (string input in producer.Input.Concat(GraphIndex.OuterScopeReads(producer))) stack.Push(input);
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
            used.UnionWith(GraphIndex.OuterScopeReads(graph.Node[i]));
        }
        g.Initializer.AddRange(graph.Initializer.Where(t => used.Contains(t.Name)).Select(t => t.Clone()));
        if (model.OutputName != Output) g.Node.Add(Identity(model.OutputName, Output));
        g.Output.Add(TensorShapeProbe.FloatOutput(Output));
        return tail;
    }

    private static ModelProto WholeModel(PreparedModel model)
    {
        if (model.FedInputs.Count > 0)
            throw new ScoreCamException(
                $"The output of model '{model.Source}' reads more than the target layer '{model.Layer.TensorName}', and the model has inputs besides the image; " +
                "the model cannot be run from the layer on. Use a method that masks the input (Score-CAM, RISE) or a gradient method.");
        TargetLayer layer = model.Layer;
        ModelProto tail = model.Proto.Clone();
        tail.ProducerName = "ScoreCam.Onnx tail graph";
        GraphProto g = tail.Graph;
        string altered = layer.TensorName + AlteredSuffix;
        // Every reader, in nested graphs too (they read the layer by name from this one), takes the altered maps.
        foreach (NodeProto node in GraphIndex.WithSubgraphs(g).SelectMany(graph => graph.Node))
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == layer.TensorName) node.Input[i] = altered;
        // The altered maps laid out as the layer, inserted right after the layer's node (the graph stays in topological order).
        var rearranged = new GraphProto();
        ActivationLayout.AddLayerNodes(rearranged, layer, ActivationsInput, layer.TensorName, altered);
        int at = g.Node.IndexOf(g.Node.First(n => n.Output.Contains(layer.TensorName))) + 1;
        for (int i = 0; i < rearranged.Node.Count; i++) g.Node.Insert(at + i, rearranged.Node[i]);
        g.Initializer.AddRange(rearranged.Initializer);
        g.Input.Add(Value(ActivationsInput, layer.Channels, layer.Height, layer.Width));
        g.Output.Clear();
        if (model.OutputName != Output) g.Node.Add(Identity(model.OutputName, Output));
        g.Output.Add(TensorShapeProbe.FloatOutput(Output));
        return tail;
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
