using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Pad (constant, reflect or edge; pads and axes as inputs, opset 11+, or as attributes before): each output
/// gradient goes back to the input element it was copied from (reflected and edge copies add up); the constant
/// border gets nothing, and negative pads (cropping) simply select fewer elements.
/// </summary>
internal sealed class PadRule : IGradientRule
{
    public string OpType => "Pad";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        if (node.Input.Skip(1).Any(e.NeedsGradient)) throw e.Unsupported("has pads or a padding value computed from the activations");
        e.Accumulate(node.Input[0], e.ScatterBack(node.Input[0], g, positions =>
        {
            // The same padding of the positions, with 0 (the outside slot) as the constant.
            var inputs = new List<string> { positions, Attr.Input(node, 1), e.Int64Scalar(0) };
            if (Attr.Input(node, 3).Length > 0) inputs.Add(node.Input[3]);
            return e.Op("Pad", inputs.ToArray(), node.Attribute.Where(a => a.Name == "mode").ToArray());
        }, outsideSlot: true));
    }
}
