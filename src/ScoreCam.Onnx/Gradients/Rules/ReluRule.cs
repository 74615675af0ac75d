using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Relu: g where x &gt; 0 (0 at the kink, as PyTorch). Guided Backpropagation (Springenberg et al.): g where x &gt; 0
/// and g &gt; 0.
/// </summary>
internal sealed class ReluRule : ElementwiseRule
{
    public override string OpType => "Relu";

    protected override string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y)
    {
        string open = e.Op("Greater", x, e.Scalar(0f));
        return e.Mask(e.Guided ? Positive(e, open, g) : open, g);
    }

    /// <summary>Guided Backpropagation's extra condition: the incoming gradient is positive too.</summary>
    internal static string Positive(GradientEmitter e, string condition, string g) => e.Op("And", condition, e.Op("Greater", g, e.Scalar(0f)));
}
