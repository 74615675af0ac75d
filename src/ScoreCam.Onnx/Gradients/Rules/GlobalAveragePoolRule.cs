using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>GlobalAveragePool: every position receives g / (h·w).</summary>
internal sealed class GlobalAveragePoolRule : IGradientRule
{
    public string OpType => "GlobalAveragePool";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string x = node.Input[0];
        long area = e.Shape(x).Skip(2).Aggregate(1L, (a, d) => a * d);
        e.Accumulate(x, e.Mul(e.Op("Expand", g, e.ShapeOf(x)), e.Scalar(1f / area)));
    }
}
