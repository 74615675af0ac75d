using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Exp: g·y.</summary>
internal sealed class ExpRule : ElementwiseRule
{
    public override string OpType => "Exp";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Mul(g, y);
}
