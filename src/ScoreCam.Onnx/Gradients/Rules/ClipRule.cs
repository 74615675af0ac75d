using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Clip (min/max as inputs, opset 11+, or attributes before): g strictly inside the range (ReLU6's convention).
/// Guided Backpropagation treats a Clip from 0 (ReLU6) as a ReLU: g also only where g &gt; 0.
/// </summary>
internal sealed class ClipRule : ElementwiseRule
{
    public override string OpType => "Clip";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y)
    {
        string min = Attr.Input(node, 1), max = Attr.Input(node, 2);
        if (e.NeedsGradient(min) || e.NeedsGradient(max)) throw e.Unsupported("has bounds computed from the activations");
        if (min.Length == 0 && node.Attribute.Any(a => a.Name == "min")) min = e.Scalar(Attr.GetFloat(node, "min", float.MinValue));
        if (max.Length == 0 && node.Attribute.Any(a => a.Name == "max")) max = e.Scalar(Attr.GetFloat(node, "max", float.MaxValue));
        string? inside = null;
        if (min.Length > 0) inside = e.Op("Greater", x, min);
        if (max.Length > 0)
        {
            string below = e.Op("Less", x, max);
            inside = inside is null ? below : e.Op("And", inside, below);
        }
        if (e.Guided && inside is not null && min.Length > 0 && e.ConstantFloats(min) is [0f]) inside = ReluRule.Positive(e, inside, g);
        return inside is null ? g : e.Mask(inside, g);
    }
}
