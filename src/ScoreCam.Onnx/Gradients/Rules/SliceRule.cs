using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Slice (any starts, ends, axes, steps; opset 10+ inputs): each output gradient goes back to the element it was sliced from.</summary>
internal sealed class SliceRule : IGradientRule
{
    public string OpType => "Slice";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        if (node.Input.Skip(1).Any(e.NeedsGradient)) throw e.Unsupported("has bounds computed from the activations");
        e.Accumulate(node.Input[0], e.ScatterBack(node.Input[0], g,
            positions => e.Op("Slice", new[] { positions }.Concat(node.Input.Skip(1)).ToArray())));
    }
}
