using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>GlobalMaxPool: g goes to the positions equal to the maximum (shared among ties).</summary>
internal sealed class GlobalMaxPoolRule : IGradientRule
{
    public string OpType => "GlobalMaxPool";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string x = node.Input[0], y = node.Output[0];
        string hits = e.Op("Cast", new[] { e.Op("Equal", x, y) }, Attr.Int("to", (long)TensorProto.Types.DataType.Float));
        long rank = e.Rank(x);
        string count = e.Op("ReduceSum", new[] { hits, e.Int64s(Enumerable.Range(2, (int)rank - 2).Select(i => (long)i).ToArray()) }, Attr.Int("keepdims", 1));
        e.Accumulate(x, e.Mul(hits, e.Op("Div", g, count)));
    }
}
