using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Split: the outputs' gradients concatenated back along the axis (zeros for outputs nothing depends on).</summary>
internal sealed class SplitRule : IGradientRule
{
    public string OpType => "Split";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (!e.NeedsGradient(node.Input[0])) return;
        var parts = node.Output.Select(o => e.GradientOf(o) ?? e.ZerosLike(o)).ToArray();
        e.Accumulate(node.Input[0], e.Op("Concat", parts, Attr.Int("axis", Attr.GetInt(node, "axis", 0))));
    }
}
