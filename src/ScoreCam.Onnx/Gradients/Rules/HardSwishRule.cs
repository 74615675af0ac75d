using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>HardSwish y = x·relu6(x + 3)/6: 0 below −3, 1 above 3, x/3 + 1/2 between (PyTorch's convention).</summary>
internal sealed class HardSwishRule : ElementwiseRule
{
    public override string OpType => "HardSwish";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y)
    {
        string inner = e.Op("Add", e.Mul(x, e.Scalar(1f / 3f)), e.Scalar(0.5f));
        string local = e.Op("Where", e.Op("Less", x, e.Scalar(-3f)), e.Scalar(0f),
            e.Op("Where", e.Op("Greater", x, e.Scalar(3f)), e.Scalar(1f), inner));
        return e.Mul(g, local);
    }
}
