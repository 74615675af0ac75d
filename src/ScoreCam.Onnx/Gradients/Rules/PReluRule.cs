using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>PRelu with a constant slope: g where x &gt; 0, slope·g elsewhere.</summary>
internal sealed class PReluRule : ElementwiseRule
{
    public override string OpType => "PRelu";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y)
    {
        if (e.NeedsGradient(node.Input[1])) throw e.Unsupported("has a slope computed from the activations");
        return e.Op("Where", e.Op("Greater", x, e.Scalar(0f)), g, e.Mul(g, node.Input[1]));
    }
}
