using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Softplus: g·sigmoid(x).</summary>
internal sealed class SoftplusRule : ElementwiseRule
{
    public override string OpType => "Softplus";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) => e.Mul(g, e.Op("Sigmoid", x));
}
