using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Transpose: the gradient goes through the inverse permutation.</summary>
internal sealed class TransposeRule : IGradientRule
{
    public string OpType => "Transpose";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        long[] perm = Attr.GetInts(node, "perm") ?? Enumerable.Range(0, e.Rank(node.Input[0])).Reverse().Select(i => (long)i).ToArray();
        var inverse = new long[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        e.Accumulate(node.Input[0], e.Op("Transpose", new[] { g }, Attr.Ints("perm", inverse)));
    }
}
