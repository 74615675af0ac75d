using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// ReduceMean and ReduceSum (axes as attribute or, from opset 13/18, as input; keepdims): the gradient is given
/// back its reduced axes and expanded over them, divided by the count for the mean.
/// </summary>
internal sealed class ReduceRule : IGradientRule
{
    public ReduceRule(string opType) => OpType = opType;

    public string OpType { get; }

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string x = node.Input[0], y = node.Output[0];
        string axes = Attr.Input(node, 1);
        if (axes.Length == 0 && Attr.GetInts(node, "axes") is { } listed) axes = e.Int64s(listed);
        if (axes.Length == 0 && Attr.GetInt(node, "noop_with_empty_axes", 0) != 0)
        {
            e.Accumulate(x, g);
            return;
        }
        if (axes.Length > 0 && Attr.GetInt(node, "keepdims", 1) == 0) g = e.Op("Unsqueeze", g, axes);
        string spread = e.Op("Expand", g, e.ShapeOf(x));
        if (OpType == "ReduceMean")
        {
            string count = e.Op("Cast", new[] { e.Op("Div", e.Op("Size", x), e.Op("Size", y)) }, Attr.Int("to", (long)TensorProto.Types.DataType.Float));
            spread = e.Op("Div", spread, count);
        }
        e.Accumulate(x, spread);
    }
}
