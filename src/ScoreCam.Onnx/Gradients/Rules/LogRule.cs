using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Log: g / x.</summary>
internal sealed class LogRule : ElementwiseRule
{
    public override string OpType => "Log";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y) =>
        e.Op("Div", g, x);
}
