using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Softmax along one axis (opset 13 semantics): dx = y·(g − Σ_axis g·y).</summary>
internal sealed class SoftmaxRule : IGradientRule
{
    public string OpType => "Softmax";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string y = node.Output[0], axis = e.Int64s(Attr.GetInt(node, "axis", -1));
        string dot = e.Op("ReduceSum", new[] { e.Mul(g, y), axis }, Attr.Int("keepdims", 1));
        e.Accumulate(node.Input[0], e.Mul(y, e.Op("Sub", g, dot)));
    }
}
