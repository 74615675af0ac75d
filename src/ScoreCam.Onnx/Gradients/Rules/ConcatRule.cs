using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Concat: the gradient is split back into the inputs' extents along the axis.</summary>
internal sealed class ConcatRule : IGradientRule
{
    public string OpType => "Concat";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !node.Input.Any(e.NeedsGradient)) return;
        long axis = Attr.GetInt(node, "axis", 0);
        string index = e.Int64s(axis);
        var sizes = node.Input.Select(x => e.Op("Gather", new[] { e.ShapeOf(x), index }, Attr.Int("axis", 0))).ToArray();
        string split = e.Op("Concat", sizes, Attr.Int("axis", 0));
        string[] parts = e.OpN("Split", new[] { g, split }, node.Input.Count, Attr.Int("axis", axis));
        for (int i = 0; i < parts.Length; i++) e.Accumulate(node.Input[i], parts[i]);
    }
}
