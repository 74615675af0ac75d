using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>LeakyRelu: g where x &gt; 0, alpha·g elsewhere.</summary>
internal sealed class LeakyReluRule : ElementwiseRule
{
    public override string OpType => "LeakyRelu";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Op("Where", e.Op("Greater", x, e.Scalar(0f)), g, e.Mul(g, e.Scalar(Attr.GetFloat(node, "alpha", 0.01f))));
}
