using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>HardSigmoid y = max(0, min(1, alpha·x + beta)): alpha·g where 0 &lt; y &lt; 1.</summary>
internal sealed class HardSigmoidRule : ElementwiseRule
{
    public override string OpType => "HardSigmoid";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y)
    {
        string inside = e.Op("And", e.Op("Greater", y, e.Scalar(0f)), e.Op("Less", y, e.Scalar(1f)));
        return e.Mask(inside, e.Mul(g, e.Scalar(Attr.GetFloat(node, "alpha", 0.2f))));
    }
}
