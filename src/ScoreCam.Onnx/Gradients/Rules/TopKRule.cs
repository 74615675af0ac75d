using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// TopK: the values are the input's elements at the indices it chose, so each value's gradient is added back at its
/// element; the choice (the indices output) is held as it is, integers that carry no derivative.
/// </summary>
internal sealed class TopKRule : IGradientRule
{
    public string OpType => "TopK";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        e.Accumulate(node.Input[0], e.ScatterBack(node.Input[0], g,
            positions => e.Op("GatherElements", new[] { positions, node.Output[1] }, Attr.Int("axis", Attr.GetInt(node, "axis", -1)))));
    }
}
