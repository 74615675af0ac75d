using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Expand: the gradient summed back over the broadcast axes.</summary>
internal sealed class ExpandRule : IGradientRule
{
    public string OpType => "Expand";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is { } g && e.NeedsGradient(node.Input[0])) e.Accumulate(node.Input[0], e.Unbroadcast(g, node.Input[0]));
    }
}
