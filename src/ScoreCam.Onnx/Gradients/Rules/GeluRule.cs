using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Gelu (opset 20): exact, x·Φ(x), whose derivative is Φ(x) + x·φ(x) = ½(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π);
/// approximate = "tanh", ½x(1 + t) with t = tanh(√(2/π)(x + 0.044715x³)), whose derivative is
/// ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
/// </summary>
internal sealed class GeluRule : ElementwiseRule
{
    private const float SqrtTwoOverPi = 0.7978845608028654f, Cubic = 0.044715f;

    public override string OpType => "Gelu";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y)
    {
        string half = e.Scalar(0.5f), one = e.Scalar(1f), squared = e.Mul(x, x);
        string derivative;
        if (Attr.GetString(node, "approximate", "none") == "tanh")
        {
            string t = e.Op("Tanh", e.Mul(e.Scalar(SqrtTwoOverPi), e.Op("Add", x, e.Mul(e.Scalar(Cubic), e.Mul(squared, x)))));
            string slope = e.Mul(e.Scalar(SqrtTwoOverPi), e.Op("Add", one, e.Mul(e.Scalar(3 * Cubic), squared)));
            derivative = e.Op("Add", e.Mul(half, e.Op("Add", one, t)), e.Mul(e.Mul(half, x), e.Mul(e.Op("Sub", one, e.Mul(t, t)), slope)));
        }
        else
        {
            string cdf = e.Mul(half, e.Op("Add", one, e.Op("Erf", e.Mul(x, e.Scalar(0.7071067811865476f)))));
            string pdf = e.Mul(e.Scalar(0.3989422804014327f), e.Op("Exp", e.Mul(e.Scalar(-0.5f), squared)));
            derivative = e.Op("Add", cdf, e.Mul(x, pdf));
        }
        return e.Mul(g, derivative);
    }
}
