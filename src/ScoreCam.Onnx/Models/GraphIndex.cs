using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>Lookup tables over an ONNX graph: who produces and who consumes each tensor, in node (topological) order.</summary>
internal sealed class GraphIndex
{
    private static readonly HashSet<string> NonDataOps = new(StringComparer.Ordinal)
    {
        // Ops whose outputs describe a tensor rather than carry image data.
        "Shape", "Size", "NonZero", "ArgMax", "ArgMin", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
        "Not", "And", "Or", "Xor", "IsNaN", "IsInf", "ConstantOfShape", "Range", "EyeLike",
    };

    public GraphIndex(GraphProto graph)
    {
        Graph = graph;
        Initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            NodeProto node = graph.Node[i];
            foreach (string output in node.Output)
                if (output.Length > 0) Producer[output] = i;
            foreach (string input in node.Input)
            {
                if (input.Length == 0) continue;
                if (!Consumers.TryGetValue(input, out var list)) Consumers[input] = list = new List<int>();
                list.Add(i);
            }
        }
    }

    public GraphProto Graph { get; }
    public HashSet<string> Initializers { get; }
    public Dictionary<string, int> Producer { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<int>> Consumers { get; } = new(StringComparer.Ordinal);

    public NodeProto? ProducerOf(string tensor) => Producer.TryGetValue(tensor, out int i) ? Graph.Node[i] : null;

    /// <summary>Graph inputs that are not initializers (weights listed as inputs by older exporters).</summary>
    public IEnumerable<ValueInfoProto> RealInputs => Graph.Input.Where(i => !Initializers.Contains(i.Name));

    /// <summary>Every tensor the given tensor depends on, itself included.</summary>
    public HashSet<string> Ancestors(string tensor)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        stack.Push(tensor);
        while (stack.Count > 0)
        {
            string t = stack.Pop();
            if (!seen.Add(t) || !Producer.TryGetValue(t, out int i)) continue;
            foreach (string input in Graph.Node[i].Input)
                if (input.Length > 0) stack.Push(input);
        }
        return seen;
    }

    /// <summary>Tensors that carry data derived from <paramref name="input"/>: float feature maps, not shape arithmetic.</summary>
    public HashSet<string> DataDerivedFrom(string input)
    {
        var derived = new HashSet<string>(StringComparer.Ordinal) { input };
        foreach (NodeProto node in Graph.Node)
        {
            if (NonDataOps.Contains(node.OpType) || !(node.Input.Any(derived.Contains) || OuterScopeReads(node).Any(derived.Contains))) continue;
            if (node.OpType == "Cast" && !CastsToFloat(node)) continue;
            if (Subgraphs(node).FirstOrDefault() is { } body)
            {
                // Control flow (If, Loop, Scan): the outputs its body declares as integers (an If around NonMaxSuppression
                // returns kept indices) carry no data; a Loop's and Scan's body outputs start after the condition.
                int skip = node.OpType == "Loop" ? 1 : 0;
                for (int i = 0; i < node.Output.Count; i++)
                    if (node.Output[i].Length > 0 && !(body.Output.ElementAtOrDefault(i + skip) is { } v && HoldsNoFloats(v))) derived.Add(node.Output[i]);
                continue;
            }
            // Only the first output carries data for MaxPool (indices), Dropout (mask), TopK (indices) and the like.
            if (node.Output.Count > 0 && node.Output[0].Length > 0) derived.Add(node.Output[0]);
            if (node.OpType is "Split" or "Concat" or "Identity")
                foreach (string o in node.Output.Skip(1)) derived.Add(o);
        }
        return derived;
    }

    /// <summary>The graphs in <paramref name="node"/>'s attributes (If's branches, Loop's and Scan's bodies).</summary>
    public static IEnumerable<GraphProto> Subgraphs(NodeProto node) =>
        node.Attribute.SelectMany(a => a.G is null ? a.Graphs : a.Graphs.Prepend(a.G));

    /// <summary>
    /// The tensors of the enclosing graphs that <paramref name="node"/>'s subgraphs read by name (ONNX's outer scope):
    /// inputs of the node as much as its listed inputs, though no edge of the graph shows them.
    /// </summary>
    public static IReadOnlyCollection<string> OuterScopeReads(NodeProto node)
    {
        var reads = new HashSet<string>(StringComparer.Ordinal);
        foreach (GraphProto g in Subgraphs(node))
        {
            var local = g.Input.Select(i => i.Name).Concat(g.Initializer.Select(t => t.Name)).Concat(g.Node.SelectMany(n => n.Output)).ToHashSet(StringComparer.Ordinal);
            foreach (NodeProto inner in g.Node)
                foreach (string t in inner.Input.Concat(OuterScopeReads(inner)))
                    if (t.Length > 0 && !local.Contains(t)) reads.Add(t);
            foreach (ValueInfoProto o in g.Output)
                if (!local.Contains(o.Name)) reads.Add(o.Name);
        }
        return reads;
    }

    private static bool HoldsNoFloats(ValueInfoProto value) => value.Type?.TensorType?.ElemType is { } t && t != 0 &&
        (TensorProto.Types.DataType)t is not (TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16);

    /// <summary>The graph and every graph nested in its nodes' attributes (If, Loop, Scan bodies), outermost first.</summary>
    public static IEnumerable<GraphProto> WithSubgraphs(GraphProto graph)
    {
        yield return graph;
        foreach (AttributeProto a in graph.Node.SelectMany(n => n.Attribute))
            foreach (GraphProto g in (a.G is null ? a.Graphs : a.Graphs.Prepend(a.G)).SelectMany(WithSubgraphs))
                yield return g;
    }

    private static bool CastsToFloat(NodeProto node) =>
        node.Attribute.FirstOrDefault(a => a.Name == "to")?.I == (long)TensorProto.Types.DataType.Float;
}
