using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Mul (with broadcasting): d(a·b)/da = b, summed back to each input's shape.</summary>
internal sealed class MulRule : IGradientRule
{
    public string OpType => "Mul";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string a = node.Input[0], b = node.Input[1];
        if (e.NeedsGradient(a)) e.Accumulate(a, e.Unbroadcast(e.Mul(g, b), a));
        if (e.NeedsGradient(b)) e.Accumulate(b, e.Unbroadcast(e.Mul(g, a), b));
    }
}
