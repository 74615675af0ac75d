using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Div (with broadcasting): d(a/b)/da = 1/b, d(a/b)/db = -y/b, summed back to each input's shape.</summary>
internal sealed class DivRule : IGradientRule
{
    public string OpType => "Div";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string a = node.Input[0], b = node.Input[1], y = node.Output[0];
        if (e.NeedsGradient(a)) e.Accumulate(a, e.Unbroadcast(e.Op("Div", g, b), a));
        if (e.NeedsGradient(b)) e.Accumulate(b, e.Unbroadcast(e.Op("Neg", e.Op("Div", e.Mul(g, y), b)), b));
    }
}
