using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Ops that only change the shape (Flatten, Reshape, Squeeze, Unsqueeze): the gradient is reshaped back to the
/// input's shape.
/// </summary>
internal sealed class ReshapeLikeRule : IGradientRule
{
    public ReshapeLikeRule(string opType) => OpType = opType;

    public string OpType { get; }

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        e.Accumulate(node.Input[0], e.Reshape(g, e.ShapeOf(node.Input[0])));
    }
}
