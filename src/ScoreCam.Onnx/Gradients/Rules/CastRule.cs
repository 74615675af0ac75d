using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Cast between float tensors: the identity for gradients (casts to other types carry none).</summary>
internal sealed class CastRule : IGradientRule
{
    public string OpType => "Cast";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is { } g) e.Accumulate(node.Input[0], g);
    }
}
