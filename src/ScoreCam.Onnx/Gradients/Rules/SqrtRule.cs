using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Sqrt: g / (2y).</summary>
internal sealed class SqrtRule : ElementwiseRule
{
    public override string OpType => "Sqrt";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Op("Div", g, e.Mul(y, e.Scalar(2f)));
}
