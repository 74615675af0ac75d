using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Tanh: g·(1 − y²).</summary>
internal sealed class TanhRule : ElementwiseRule
{
    public override string OpType => "Tanh";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Mul(g, e.Op("Sub", e.Scalar(1f), e.Mul(y, y)));
}
