using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients.Rules;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// Rewrites a GRU node of a gradient graph's forward part into its equations over the sequence's T steps
/// (MatMul, Add, Sigmoid, Tanh, Mul, Sub, Split, Squeeze, Unsqueeze, Concat), which the rules of those ops
/// differentiate: backpropagation through time. The ONNX GRU, gates z, r, h in that order:
/// z_t = σ(X_t Wz^T + H_{t−1} Rz^T + Wbz + Rbz), r_t = σ(X_t Wr^T + H_{t−1} Rr^T + Wbr + Rbr),
/// h_t = tanh(X_t Wh^T + r_t ⊙ (H_{t−1} Rh^T + Rbh) + Wbh) with linear_before_reset (PyTorch's export), else
/// h_t = tanh(X_t Wh^T + (r_t ⊙ H_{t−1}) Rh^T + Rbh + Wbh); H_t = (1 − z_t) ⊙ h_t + z_t ⊙ H_{t−1}.
/// One direction (forward), the default activations, no clip, no sequence lengths, layout 0.
/// </summary>
internal static class GruUnrolling
{
    /// <summary>
    /// Replaces each GRU among <paramref name="nodes"/> (and in <paramref name="graph"/>, in place) by its unrolled
    /// equations; <paramref name="shapes"/> holds the shape of each GRU's input X (T×N×input). Returns the (float)
    /// tensors the equations compute, whose shapes the rules need even where they are constants (the gates' weights).
    /// </summary>
    public static IReadOnlyList<string> Apply(GraphProto graph, List<NodeProto> nodes, IReadOnlyDictionary<string, long[]> shapes)
    {
        var created = new List<string>();
        int fresh = 0;
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            NodeProto gru = nodes[i];
            if (!IsGru(gru)) continue;
            var unrolled = new Unroller(gru, graph, $"grad/gru{fresh++}").Emit(Steps(gru, shapes));
            nodes.RemoveAt(i);
            nodes.InsertRange(i, unrolled);
            int at = graph.Node.IndexOf(gru);
            graph.Node.RemoveAt(at);
            for (int j = 0; j < unrolled.Count; j++) graph.Node.Insert(at + j, unrolled[j]);
            created.AddRange(unrolled.SelectMany(n => n.Output));
        }
        return created;
    }

    public static bool IsGru(NodeProto node) => node.OpType == "GRU" && node.Domain is "" or "ai.onnx";

    private static int Steps(NodeProto gru, IReadOnlyDictionary<string, long[]> shapes)
    {
        string Unsupported(string what) =>
            $"Cannot build the gradient graph: node '{gru.Name}' is a GRU {what}; gradient graphs unroll forward GRUs with the default activations " +
            "(Sigmoid, Tanh), no clip, no sequence lengths and layout 0. Re-export the recurrent layer in that form, or use a method that needs no gradients (scorecam, rise).";
        if (Attr.GetString(gru, "direction", "forward") != "forward") throw new ScoreCamException(Unsupported($"with direction '{Attr.GetString(gru, "direction", "")}'"));
        if (gru.Attribute.FirstOrDefault(a => a.Name == "activations") is { } act &&
            !act.Strings.Select(s => s.ToStringUtf8()).SequenceEqual(new[] { "Sigmoid", "Tanh" }, StringComparer.OrdinalIgnoreCase))
            throw new ScoreCamException(Unsupported($"with activations {string.Join(", ", act.Strings.Select(s => s.ToStringUtf8()))}"));
        if (gru.Attribute.Any(a => a.Name == "clip")) throw new ScoreCamException(Unsupported("with a clip"));
        if (Attr.GetInt(gru, "layout", 0) != 0) throw new ScoreCamException(Unsupported("with layout 1 (batch first)"));
        if (Attr.Input(gru, 4).Length > 0) throw new ScoreCamException(Unsupported("with sequence lengths"));
        if (!shapes.TryGetValue(gru.Input[0], out long[]? x) || x.Length != 3 || x[0] < 1)
            throw new ScoreCamException(Unsupported("whose input X has no fixed sequence length"));
        return (int)x[0];
    }

    /// <summary>Emits one GRU's equations as nodes named after it.</summary>
    private sealed class Unroller
    {
        private readonly NodeProto _gru;
        private readonly GraphProto _graph;
        private readonly List<NodeProto> _nodes = new();
        private readonly string _prefix;
        private int _next;

        public Unroller(NodeProto gru, GraphProto graph, string prefix) => (_gru, _graph, _prefix) = (gru, graph, prefix);

        public List<NodeProto> Emit(int steps)
        {
            long hidden = Attr.GetInt(_gru, "hidden_size", 0);
            if (hidden <= 0) throw new ScoreCamException($"Cannot build the gradient graph: GRU node '{_gru.Name}' has no hidden_size.");
            bool linearBeforeReset = Attr.GetInt(_gru, "linear_before_reset", 0) != 0;
            long[] gates = { hidden, hidden, hidden };
            string first = Ints(0);
            // Weights per gate, transposed for X_t W^T: W [1, 3H, input] → [input, 3H] → z, r, h.
            string[] w = Split(Op("Transpose", Op("Squeeze", Input(1), first)), 1, gates);
            string[] r = Split(Op("Transpose", Op("Squeeze", Input(2), first)), 1, gates);
            string[]? b = Input(3).Length > 0 ? Split(Op("Squeeze", Input(3), first), 0, gates.Concat(gates).ToArray()) : null;
            string? bz = b is null ? null : Op("Add", b[0], b[3]), br = b is null ? null : Op("Add", b[1], b[4]);
            string? bh = b is null || linearBeforeReset ? null : Op("Add", b[2], b[5]);

            string[] xs = steps == 1 ? new[] { Input(0) } : Split(Input(0), 0, Enumerable.Repeat(1L, steps).ToArray());
            xs = xs.Select(x => Op("Squeeze", x, first)).ToArray(); // X_t: N×input
            // H_0: initial_h [1, N, H], else zeros of N×H (X_0 times a zero matrix keeps the batch size symbolic).
            string h = Input(5).Length > 0 ? Op("Squeeze", Input(5), first) : Op("MatMul", xs[0], Op("Mul", w[0], Constant(0f)));
            string one = Constant(1f);
            var states = new List<string>();
            foreach (string x in xs)
            {
                string z = Op("Sigmoid", Bias(Op("Add", Op("MatMul", x, w[0]), Op("MatMul", h, r[0])), bz));
                string reset = Op("Sigmoid", Bias(Op("Add", Op("MatMul", x, w[1]), Op("MatMul", h, r[1])), br));
                string candidate = linearBeforeReset
                    ? Op("Tanh", Bias(Op("Add", Op("MatMul", x, w[2]), Op("Mul", reset, Bias(Op("MatMul", h, r[2]), b?[5]))), b?[2]))
                    : Op("Tanh", Bias(Op("Add", Op("MatMul", x, w[2]), Op("MatMul", Op("Mul", reset, h), r[2])), bh));
                h = Op("Add", Op("Mul", Op("Sub", one, z), candidate), Op("Mul", z, h));
                states.Add(h);
            }
            if (_gru.Output.Count > 0 && _gru.Output[0].Length > 0) // Y: T×1×N×H
                Op("Concat", states.Select(s => Op("Unsqueeze", s, Ints(0, 1))).ToArray(), _gru.Output[0], Attr.Int("axis", 0));
            if (_gru.Output.Count > 1 && _gru.Output[1].Length > 0) // Y_h: 1×N×H
                Op("Unsqueeze", new[] { h, first }, _gru.Output[1]);
            return _nodes;
        }

        private string Input(int i) => Attr.Input(_gru, i);

        private string Bias(string x, string? bias) => bias is null ? x : Op("Add", x, bias);

        private string Op(string op, params string[] inputs) => Op(op, inputs, Name(op.ToLowerInvariant()));

        private string Op(string op, string[] inputs, string output, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = $"{_gru.Name}/unrolled/{op}_{_next++}" };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
            _nodes.Add(node);
            return output;
        }

        private string[] Split(string x, long axis, long[] sizes)
        {
            var node = new NodeProto { OpType = "Split", Name = $"{_gru.Name}/unrolled/Split_{_next++}" };
            node.Input.Add(x);
            node.Input.Add(Ints(sizes));
            var outputs = sizes.Select(_ => Name("split")).ToArray();
            node.Output.AddRange(outputs);
            node.Attribute.Add(Attr.Int("axis", axis));
            _nodes.Add(node);
            return outputs;
        }

        private string Name(string what) => $"{_prefix}/{what}_{_next++}";

        private string Ints(params long[] values)
        {
            var t = new TensorProto { Name = Name("ints"), DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(values.Length);
            t.Int64Data.AddRange(values);
            _graph.Initializer.Add(t);
            return t.Name;
        }

        /// <summary>A float scalar initializer.</summary>
        private string Constant(float value)
        {
            var t = new TensorProto { Name = Name("const"), DataType = (int)TensorProto.Types.DataType.Float };
            t.FloatData.Add(value);
            _graph.Initializer.Add(t);
            return t.Name;
        }
    }
}
