using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Gather with constant indices: each output gradient is added back at the element it was gathered from (repeats add up).</summary>
internal sealed class GatherRule : IGradientRule
{
    public string OpType => "Gather";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        e.Accumulate(node.Input[0], e.ScatterBack(node.Input[0], g,
            positions => e.Op("Gather", new[] { positions, node.Input[1] }, Attr.Int("axis", Attr.GetInt(node, "axis", 0)))));
    }
}
