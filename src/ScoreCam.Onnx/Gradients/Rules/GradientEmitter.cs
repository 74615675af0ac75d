using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// What a <see cref="IGradientRule"/> writes with: fresh node and constant names in the gradient graph, the gradient
/// accumulated so far for each tensor (several contributions are summed), and the shapes of the head's tensors at
/// batch size 1 (learned by running the cut graph once), and which ReLU rule the graph uses.
/// </summary>
internal sealed class GradientEmitter
{
    private readonly GraphProto _graph;
    private readonly HashSet<string> _differentiable;
    private readonly IReadOnlyDictionary<string, long[]> _shapes;
    private readonly Dictionary<string, List<string>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _summed = new(StringComparer.Ordinal);
    private int _next;

    public GradientEmitter(GraphProto graph, HashSet<string> differentiable, IReadOnlyDictionary<string, long[]> shapes, bool guided = false) =>
        (_graph, _differentiable, _shapes, Guided) = (graph, differentiable, shapes, guided);

    /// <summary>Guided Backpropagation: ReLU-like rules also drop negative incoming gradients.</summary>
    public bool Guided { get; }

    /// <summary>The node whose rule is running (for error messages).</summary>
    public NodeProto? Current { get; set; }

    /// <summary>True for tensors computed from the activations; constants and initializers get no gradient.</summary>
    public bool NeedsGradient(string tensor) => tensor.Length > 0 && _differentiable.Contains(tensor);

    /// <summary>Adds a contribution to the gradient of <paramref name="tensor"/> (ignored for constants).</summary>
    public void Accumulate(string tensor, string gradient)
    {
        if (!NeedsGradient(tensor)) return;
        if (_summed.ContainsKey(tensor))
            throw new InvalidOperationException($"The gradient of '{tensor}' was read before all its consumers were differentiated.");
        if (!_pending.TryGetValue(tensor, out var list)) _pending[tensor] = list = new List<string>();
        list.Add(gradient);
    }

    /// <summary>The total gradient of <paramref name="tensor"/>, or null when nothing downstream depends on it.</summary>
    public string? GradientOf(string tensor)
    {
        if (_summed.TryGetValue(tensor, out string? done)) return done;
        if (!_pending.TryGetValue(tensor, out var list)) return null;
        string total = list.Count == 1 ? list[0] : Op("Sum", list.ToArray());
        _summed[tensor] = total;
        return total;
    }

    // ---- emitting nodes ----

    public string Op(string opType, params string[] inputs) => Op(opType, inputs, Array.Empty<AttributeProto>());

    public string Op(string opType, string[] inputs, params AttributeProto[] attributes) => OpN(opType, inputs, 1, attributes)[0];

    public string[] OpN(string opType, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"grad/{opType}_{_next++}" };
        node.Input.AddRange(inputs);
        var names = new string[outputs];
        for (int i = 0; i < outputs; i++) node.Output.Add(names[i] = $"grad/{opType.ToLowerInvariant()}_{_next++}");
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>A 1-D int64 constant.</summary>
    public string Int64s(params long[] values)
    {
        var t = new TensorProto { Name = $"grad/const_{_next++}", DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>A float scalar (rank 0) constant.</summary>
    public string Scalar(float value) => Floats(new[] { value });

    public string Floats(float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = $"grad/const_{_next++}", DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    public string Mul(string a, string b) => Op("Mul", a, b);

    public string Reshape(string x, string shape) => Op("Reshape", x, shape);

    public string ShapeOf(string x) => Op("Shape", x);

    /// <summary>Where(condition, g, 0).</summary>
    public string Mask(string condition, string g) => Op("Where", condition, g, Scalar(0f));

    /// <summary>
    /// Sums a gradient of a broadcast result back to <paramref name="input"/>'s shape: over leading axes the input
    /// lacks and over axes where the input has size 1 and the result does not (found at run time from the shapes).
    /// </summary>
    public string Unbroadcast(string gradient, string input)
    {
        string shapeG = ShapeOf(gradient), shapeX = ShapeOf(input);
        string missing = Op("Sub", Op("Shape", shapeG), Op("Shape", shapeX));
        string ones = Op("ConstantOfShape", new[] { missing }, TensorAttr("value", Int64Tensor(1)));
        string padded = Op("Concat", new[] { ones, shapeX }, Attr.Int("axis", 0));
        string axes = Reshape(Op("NonZero", Op("Not", Op("Equal", padded, shapeG))), Int64s(-1));
        string summed = Op("ReduceSum", new[] { gradient, axes }, Attr.Int("keepdims", 1), Attr.Int("noop_with_empty_axes", 1));
        return Reshape(summed, shapeX);
    }

    /// <summary>
    /// The gradient of an op that only selects or repeats input elements (Slice, Gather, Pad): the same op applied to a
    /// tensor of flat positions ("which input element went where"), then each output gradient added at its position.
    /// With <paramref name="outsideSlot"/> the positions start at 1 and position 0 collects what came from outside the
    /// input (Pad's constant border, selected by padding the positions with 0), which is dropped.
    /// </summary>
    public string ScatterBack(string input, string gradient, Func<string, string> sameSelection, bool outsideSlot = false)
    {
        string shape = ShapeOf(input), flat = Int64s(-1), count = Op("Size", input), one = Int64Scalar(1);
        string first = outsideSlot ? one : Int64Scalar(0), end = outsideSlot ? Op("Add", count, one) : count;
        string positions = Reshape(Op("Range", first, end, one), shape);
        string selected = Reshape(sameSelection(positions), flat);
        string zeros = Op("ConstantOfShape", new[] { Reshape(end, flat) }, TensorAttr("value", FloatTensor(0f)));
        string scattered = Op("ScatterElements", new[] { zeros, selected, Reshape(gradient, flat) }, Attr.Int("axis", 0), Attr.String("reduction", "add"));
        if (outsideSlot) scattered = Op("Slice", scattered, Int64s(1), Int64s(long.MaxValue));
        return Reshape(scattered, shape);
    }

    /// <summary>Zeros shaped like <paramref name="tensor"/>.</summary>
    public string ZerosLike(string tensor) => Op("ConstantOfShape", new[] { ShapeOf(tensor) }, TensorAttr("value", FloatTensor(0f)));

    /// <summary>An int64 scalar (rank 0) constant.</summary>
    public string Int64Scalar(long value)
    {
        var t = new TensorProto { Name = $"grad/const_{_next++}", DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Int64Data.Add(value);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    private static TensorProto FloatTensor(float value)
    {
        var t = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.Add(1);
        t.FloatData.Add(value);
        return t;
    }

    // ---- shapes ----

    /// <summary>The tensor's shape at batch size 1: probed for computed tensors, declared for constants.</summary>
    public long[] Shape(string tensor)
    {
        if (_shapes.TryGetValue(tensor, out long[]? shape)) return shape;
        if (_graph.Initializer.FirstOrDefault(t => t.Name == tensor) is { } init) return init.Dims.ToArray();
        foreach (NodeProto n in _graph.Node)
            if (n.OpType == "Constant" && n.Output.Count > 0 && n.Output[0] == tensor && n.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { } v)
                return v.Dims.ToArray();
        throw Unsupported($"the shape of '{tensor}' is not known");
    }

    public int Rank(string tensor) => Shape(tensor).Length;

    /// <summary>The values of a float constant (an initializer or a Constant node's output), or null for a computed tensor.</summary>
    public float[]? ConstantFloats(string tensor)
    {
        TensorProto? t = _graph.Initializer.FirstOrDefault(i => i.Name == tensor)
            ?? _graph.Node.FirstOrDefault(n => n.OpType == "Constant" && n.Output.Count > 0 && n.Output[0] == tensor)?.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
        if (t is null || t.DataType != (int)TensorProto.Types.DataType.Float) return null;
        return t.RawData.Length > 0 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
    }

    public ScoreCamException Unsupported(string why) =>
        new($"Cannot build the gradient graph: node '{Current?.Name}' ({Current?.OpType}) {why}.");

    private static TensorProto Int64Tensor(long value)
    {
        var t = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(1);
        t.Int64Data.Add(value);
        return t;
    }

    private static AttributeProto TensorAttr(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };
}
