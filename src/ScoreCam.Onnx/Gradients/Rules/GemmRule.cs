using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Gemm Y = alpha·A'·B' + beta·C (A' = transA ? Aᵀ : A, likewise B'): dA' = alpha·g·B'ᵀ, dB' = alpha·A'ᵀ·g,
/// dC = beta·g summed back to C's shape; each written as one Gemm with the transposes folded in.
/// </summary>
internal sealed class GemmRule : IGradientRule
{
    public string OpType => "Gemm";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string a = node.Input[0], b = node.Input[1], c = Attr.Input(node, 2);
        float alpha = Attr.GetFloat(node, "alpha", 1f), beta = Attr.GetFloat(node, "beta", 1f);
        long transA = Attr.GetInt(node, "transA", 0), transB = Attr.GetInt(node, "transB", 0);
        var alphaAttr = Attr.Float("alpha", alpha);
        if (e.NeedsGradient(a))
            e.Accumulate(a, transA == 0
                ? e.Op("Gemm", new[] { g, b }, alphaAttr, Attr.Int("transB", 1 - transB))            // g·B'ᵀ
                : e.Op("Gemm", new[] { b, g }, alphaAttr, Attr.Int("transA", transB), Attr.Int("transB", 1))); // B'·gᵀ
        if (e.NeedsGradient(b))
            e.Accumulate(b, transB == 0
                ? e.Op("Gemm", new[] { a, g }, alphaAttr, Attr.Int("transA", 1 - transA))            // A'ᵀ·g
                : e.Op("Gemm", new[] { g, a }, alphaAttr, Attr.Int("transA", 1), Attr.Int("transB", transA))); // gᵀ·A'
        if (e.NeedsGradient(c)) e.Accumulate(c, e.Unbroadcast(e.Mul(g, e.Scalar(beta)), c));
    }
}
