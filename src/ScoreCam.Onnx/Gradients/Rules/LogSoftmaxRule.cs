using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>LogSoftmax along one axis (opset 13 semantics): dx = g − exp(y)·Σ_axis g.</summary>
internal sealed class LogSoftmaxRule : IGradientRule
{
    public string OpType => "LogSoftmax";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string y = node.Output[0], axis = e.Int64s(Attr.GetInt(node, "axis", -1));
        string total = e.Op("ReduceSum", new[] { g, axis }, Attr.Int("keepdims", 1));
        e.Accumulate(node.Input[0], e.Op("Sub", g, e.Mul(e.Op("Exp", y), total)));
    }
}
