using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Pow with a constant exponent p (as in decomposed LayerNorm's x²): d(x^p)/dx = p·x^(p-1).</summary>
internal sealed class PowRule : IGradientRule
{
    public string OpType => "Pow";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string x = node.Input[0], p = node.Input[1];
        if (e.NeedsGradient(p)) throw e.Unsupported("has an exponent computed from the activations; only constant exponents are differentiated");
        if (!e.NeedsGradient(x)) return;
        string local = e.Mul(p, e.Op("Pow", x, e.Op("Sub", p, e.Op("CastLike", e.Scalar(1f), p))));
        e.Accumulate(x, e.Unbroadcast(e.Mul(g, local), x));
    }
}
