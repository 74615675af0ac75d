using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>GatherND with constant indices: each output gradient is added back at the element or slice it was gathered from.</summary>
internal sealed class GatherNDRule : IGradientRule
{
    public string OpType => "GatherND";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        e.Accumulate(node.Input[0], e.ScatterBack(node.Input[0], g,
            positions => e.Op("GatherND", new[] { positions, node.Input[1] }, Attr.Int("batch_dims", Attr.GetInt(node, "batch_dims", 0)))));
    }
}
