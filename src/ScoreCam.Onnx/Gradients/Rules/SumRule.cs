using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Sum and Mean (variadic, broadcasting): each input receives the gradient (divided by the count for Mean), summed back to its shape.</summary>
internal sealed class SumRule : IGradientRule
{
    public SumRule(string opType) => OpType = opType;

    public string OpType { get; }

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        if (OpType == "Mean") g = e.Mul(g, e.Scalar(1f / node.Input.Count));
        foreach (string x in node.Input.Where(e.NeedsGradient)) e.Accumulate(x, e.Unbroadcast(g, x));
    }
}
