using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Elu: g where x &gt; 0, g·(y + alpha) elsewhere.</summary>
internal sealed class EluRule : ElementwiseRule
{
    public override string OpType => "Elu";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Op("Where", e.Op("Greater", x, e.Scalar(0f)), g, e.Mul(g, e.Op("Add", y, e.Scalar(Attr.GetFloat(node, "alpha", 1f)))));
}
