using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients.Rules;

namespace ScoreCam.Onnx.Gradients.Recurrent;

/// <summary>
/// Rewrites the recurrent nodes of a gradient graph's forward part (GRU, LSTM, RNN) into their equations over the
/// sequence's T steps (MatMul, Add, Sigmoid, Tanh, Mul, Sub, Split, Squeeze, Unsqueeze, Concat), which the rules of
/// those ops differentiate: backpropagation through time. One direction (forward), the default activations, no clip,
/// no sequence lengths, layout 0; each op's own equations in <see cref="GruEquations"/>, <see cref="LstmEquations"/>
/// and <see cref="RnnEquations"/>.
/// </summary>
internal static class RecurrentUnrolling
{
    private static readonly Dictionary<string, string[]> DefaultActivations = new(StringComparer.Ordinal)
    {
        ["GRU"] = new[] { "Sigmoid", "Tanh" }, ["LSTM"] = new[] { "Sigmoid", "Tanh", "Tanh" }, ["RNN"] = new[] { "Tanh" },
    };

    /// <summary>
    /// Replaces each recurrent node among <paramref name="nodes"/> (and in <paramref name="graph"/>, in place) by its
    /// unrolled equations; <paramref name="shapes"/> holds the shape of each one's input X (T×N×input). Returns the
    /// (float) tensors the equations compute, whose shapes the rules need even where they are constants (the weights).
    /// </summary>
    public static IReadOnlyList<string> Apply(GraphProto graph, List<NodeProto> nodes, IReadOnlyDictionary<string, long[]> shapes)
    {
        var created = new List<string>();
        int fresh = 0;
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            NodeProto node = nodes[i];
            if (!IsRecurrent(node)) continue;
            int steps = Steps(node, shapes);
            var eq = new RecurrentEquations(node, graph, $"grad/{node.OpType.ToLowerInvariant()}{fresh++}");
            List<NodeProto> unrolled = node.OpType switch
            {
                "GRU" => GruEquations.Emit(eq, steps),
                "LSTM" => LstmEquations.Emit(eq, steps),
                _ => RnnEquations.Emit(eq, steps),
            };
            nodes.RemoveAt(i);
            nodes.InsertRange(i, unrolled);
            int at = graph.Node.IndexOf(node);
            graph.Node.RemoveAt(at);
            for (int j = 0; j < unrolled.Count; j++) graph.Node.Insert(at + j, unrolled[j]);
            created.AddRange(unrolled.SelectMany(n => n.Output));
        }
        return created;
    }

    public static bool IsRecurrent(NodeProto node) => DefaultActivations.ContainsKey(node.OpType) && node.Domain is "" or "ai.onnx";

    private static int Steps(NodeProto node, IReadOnlyDictionary<string, long[]> shapes)
    {
        string op = node.OpType;
        string Unsupported(string what) =>
            $"Cannot build the gradient graph: node '{node.Name}' is {(op == "GRU" ? "a" : "an")} {op} {what}; gradient graphs unroll forward {op}s with the default activations " +
            $"({string.Join(", ", DefaultActivations[op])}), no clip, no sequence lengths and layout 0{(op == "LSTM" ? ", input and forget gates apart" : "")}. " +
            "Re-export the recurrent layer in that form, or use a method that needs no gradients (scorecam, rise).";
        if (Attr.GetString(node, "direction", "forward") != "forward") throw new ScoreCamException(Unsupported($"with direction '{Attr.GetString(node, "direction", "")}'"));
        if (node.Attribute.FirstOrDefault(a => a.Name == "activations") is { } act &&
            !act.Strings.Select(s => s.ToStringUtf8()).SequenceEqual(DefaultActivations[op], StringComparer.OrdinalIgnoreCase))
            throw new ScoreCamException(Unsupported($"with activations {string.Join(", ", act.Strings.Select(s => s.ToStringUtf8()))}"));
        if (node.Attribute.Any(a => a.Name == "clip")) throw new ScoreCamException(Unsupported("with a clip"));
        if (Attr.GetInt(node, "layout", 0) != 0) throw new ScoreCamException(Unsupported("with layout 1 (batch first)"));
        if (Attr.GetInt(node, "input_forget", 0) != 0) throw new ScoreCamException(Unsupported("with coupled input and forget gates"));
        if (Attr.Input(node, 4).Length > 0) throw new ScoreCamException(Unsupported("with sequence lengths"));
        if (!shapes.TryGetValue(node.Input[0], out long[]? x) || x.Length != 3 || x[0] < 1)
            throw new ScoreCamException(Unsupported("whose input X has no fixed sequence length"));
        if (Attr.GetInt(node, "hidden_size", 0) <= 0) throw new ScoreCamException($"Cannot build the gradient graph: {op} node '{node.Name}' has no hidden_size.");
        return (int)x[0];
    }
}
