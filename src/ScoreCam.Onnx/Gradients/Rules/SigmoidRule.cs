using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Sigmoid: g·y·(1 − y).</summary>
internal sealed class SigmoidRule : ElementwiseRule
{
    public override string OpType => "Sigmoid";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Mul(g, e.Mul(y, e.Op("Sub", e.Scalar(1f), y)));
}
