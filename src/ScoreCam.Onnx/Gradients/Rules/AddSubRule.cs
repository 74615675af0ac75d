using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>Add and Sub (with broadcasting): the gradient, negated for Sub's second input, summed back to each input's shape.</summary>
internal sealed class AddSubRule : IGradientRule
{
    public AddSubRule(string opType) => OpType = opType;

    public string OpType { get; }

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string a = node.Input[0], b = node.Input[1];
        if (e.NeedsGradient(a)) e.Accumulate(a, e.Unbroadcast(g, a));
        if (e.NeedsGradient(b)) e.Accumulate(b, e.Unbroadcast(OpType == "Sub" ? e.Op("Neg", g) : g, b));
    }
}
