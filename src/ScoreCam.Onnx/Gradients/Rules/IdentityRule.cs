using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Identity: the gradient passes through unchanged.</summary>
internal sealed class IdentityRule : IGradientRule
{
    public string OpType => "Identity";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is { } g) e.Accumulate(node.Input[0], g);
    }
}
