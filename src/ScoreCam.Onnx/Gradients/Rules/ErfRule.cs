using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Erf (exact GELU): g·2/√π·exp(−x²).</summary>
internal sealed class ErfRule : ElementwiseRule
{
    public override string OpType => "Erf";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Mul(g, e.Mul(e.Scalar(1.1283791670955126f), e.Op("Exp", e.Op("Neg", e.Mul(x, x)))));
}
