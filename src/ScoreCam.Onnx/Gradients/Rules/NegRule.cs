using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Neg: −g.</summary>
internal sealed class NegRule : ElementwiseRule
{
    public override string OpType => "Neg";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Op("Neg", g);
}
