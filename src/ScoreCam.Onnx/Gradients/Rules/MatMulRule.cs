using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>MatMul (batched, broadcasting, both inputs at least 2-D): dA = g·Bᵀ, dB = Aᵀ·g, summed back to each input's shape.</summary>
internal sealed class MatMulRule : IGradientRule
{
    public string OpType => "MatMul";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string a = node.Input[0], b = node.Input[1];
        if (e.Rank(a) < 2 || e.Rank(b) < 2) throw e.Unsupported("multiplies a 1-D tensor; only matrices (2-D and up) are differentiated");
        if (e.NeedsGradient(a)) e.Accumulate(a, e.Unbroadcast(e.Op("MatMul", g, SwapLast(e, b)), a));
        if (e.NeedsGradient(b)) e.Accumulate(b, e.Unbroadcast(e.Op("MatMul", SwapLast(e, a), g), b));
    }

    private static string SwapLast(GradientEmitter e, string x)
    {
        int rank = e.Rank(x);
        long[] perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 2], perm[rank - 1]) = (perm[rank - 1], perm[rank - 2]);
        return e.Op("Transpose", new[] { x }, Attr.Ints("perm", perm));
    }
}
