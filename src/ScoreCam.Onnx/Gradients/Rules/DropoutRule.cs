using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Dropout at inference is the identity on its first output; the mask output carries no gradient.</summary>
internal sealed class DropoutRule : IGradientRule
{
    public string OpType => "Dropout";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is { } g) e.Accumulate(node.Input[0], g);
    }
}
