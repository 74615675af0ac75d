using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// A one-input element-wise op whose input gradient is g times a local derivative built from x and y.
/// The subclasses are one per op type.
/// </summary>
internal abstract class ElementwiseRule : IGradientRule
{
    public abstract string OpType { get; }

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        e.Accumulate(node.Input[0], InputGradient(node, e, g, node.Input[0], node.Output[0]));
    }

    /// <summary>The gradient of the input, given the gradient <paramref name="g"/> of the output.</summary>
    protected abstract string InputGradient(NodeProto node, GradientEmitter e, string g, string x, string y);
}
