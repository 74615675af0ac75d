using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Where(condition, a, b): a receives the gradient where the condition holds, b elsewhere, each summed back to its shape.</summary>
internal sealed class WhereRule : IGradientRule
{
    public string OpType => "Where";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string condition = node.Input[0], a = node.Input[1], b = node.Input[2], zero = e.Scalar(0f);
        if (e.NeedsGradient(a)) e.Accumulate(a, e.Unbroadcast(e.Op("Where", condition, g, zero), a));
        if (e.NeedsGradient(b)) e.Accumulate(b, e.Unbroadcast(e.Op("Where", condition, zero, g), b));
    }
}
