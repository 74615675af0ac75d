using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Reciprocal: −g·y².</summary>
internal sealed class ReciprocalRule : ElementwiseRule
{
    public override string OpType => "Reciprocal";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Op("Neg", e.Mul(g, e.Mul(y, y)));
}
