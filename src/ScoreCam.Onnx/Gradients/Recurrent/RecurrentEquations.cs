using Onnx;
using ScoreCam.Onnx.Gradients.Rules;

namespace ScoreCam.Onnx.Gradients.Recurrent;

/// <summary>
/// Writes one recurrent node's unrolled equations as nodes named after it: the pieces every recurrent op needs (its
/// weights per gate, transposed for X_t W^T; the steps X_t; the initial states; the outputs Y, Y_h, Y_c).
/// </summary>
internal sealed class RecurrentEquations
{
    private readonly NodeProto _node;
    private readonly GraphProto _graph;
    private readonly string _prefix;
    private int _next;

    public RecurrentEquations(NodeProto node, GraphProto graph, string prefix) => (_node, _graph, _prefix) = (node, graph, prefix);

    public List<NodeProto> Nodes { get; } = new();

    public long Hidden => Attr.GetInt(_node, "hidden_size", 0);

    public NodeProto Node => _node;

    public string Input(int i) => Attr.Input(_node, i);

    /// <summary>Input <paramref name="i"/> ([1, G·H, n]) as G matrices n×H, for X_t W^T.</summary>
    public string[] GateWeights(int i, int gates) =>
        Split(Op("Transpose", Op("Squeeze", Input(i), Axis0)), 1, Enumerable.Repeat(Hidden, gates).ToArray());

    /// <summary>The bias input ([1, 2·G·H]: Wb then Rb) as 2·G vectors, or null when the node has none.</summary>
    public string[]? GateBiases(int i, int gates) =>
        Input(i).Length > 0 ? Split(Op("Squeeze", Input(i), Axis0), 0, Enumerable.Repeat(Hidden, 2 * gates).ToArray()) : null;

    /// <summary>X_t (N×input) for each of the <paramref name="steps"/> steps.</summary>
    public string[] Steps(int steps)
    {
        string[] xs = steps == 1 ? new[] { Input(0) } : Split(Input(0), 0, Enumerable.Repeat(1L, steps).ToArray());
        return xs.Select(x => Op("Squeeze", x, Axis0)).ToArray();
    }

    /// <summary>The initial state input <paramref name="i"/> ([1, N, H]) as N×H, or zeros of N×H (X_0 times a zero matrix keeps the batch size symbolic).</summary>
    public string InitialState(int i, string x0, string inputWeights) =>
        Input(i).Length > 0 ? Op("Squeeze", Input(i), Axis0) : Op("MatMul", x0, Op("Mul", inputWeights, Constant(0f)));

    /// <summary>Writes the outputs: Y (T×1×N×H) from the states, Y_h (1×N×H) and, for an LSTM, Y_c (1×N×H).</summary>
    public void Outputs(IReadOnlyList<string> states, string lastCell = "")
    {
        if (_node.Output.Count > 0 && _node.Output[0].Length > 0)
            Op("Concat", states.Select(s => Op("Unsqueeze", s, Ints(0, 1))).ToArray(), _node.Output[0], Attr.Int("axis", 0));
        if (_node.Output.Count > 1 && _node.Output[1].Length > 0) Op("Unsqueeze", new[] { states[^1], Axis0 }, _node.Output[1]);
        if (_node.Output.Count > 2 && _node.Output[2].Length > 0) Op("Unsqueeze", new[] { lastCell, Axis0 }, _node.Output[2]);
    }

    public string Bias(string x, string? bias) => bias is null ? x : Op("Add", x, bias);

    /// <summary>X W^T + H R^T, plus the biases that are there.</summary>
    public string Affine(string x, string w, string h, string r, params string?[] biases) =>
        biases.Aggregate(Op("Add", Op("MatMul", x, w), Op("MatMul", h, r)), Bias);

    public string Op(string op, params string[] inputs) => Op(op, inputs, Name(op.ToLowerInvariant()));

    public string Op(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{_node.Name}/unrolled/{op}_{_next++}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Nodes.Add(node);
        return output;
    }

    public string[] Split(string x, long axis, long[] sizes)
    {
        var node = new NodeProto { OpType = "Split", Name = $"{_node.Name}/unrolled/Split_{_next++}" };
        node.Input.Add(x);
        node.Input.Add(Ints(sizes));
        var outputs = sizes.Select(_ => Name("split")).ToArray();
        node.Output.AddRange(outputs);
        node.Attribute.Add(Attr.Int("axis", axis));
        Nodes.Add(node);
        return outputs;
    }

    /// <summary>The axes [0] (Squeeze's, Unsqueeze's).</summary>
    public string Axis0 => Ints(0);

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
    public string Constant(float value)
    {
        var t = new TensorProto { Name = Name("const"), DataType = (int)TensorProto.Types.DataType.Float };
        t.FloatData.Add(value);
        _graph.Initializer.Add(t);
        return t.Name;
    }
}
