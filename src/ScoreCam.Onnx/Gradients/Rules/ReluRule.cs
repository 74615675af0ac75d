using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Relu: g where x &gt; 0 (0 at the kink, as PyTorch).</summary>
internal sealed class ReluRule : ElementwiseRule
{
    public override string OpType => "Relu";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Mask(e.Op("Greater", x, e.Scalar(0f)), g);
}
