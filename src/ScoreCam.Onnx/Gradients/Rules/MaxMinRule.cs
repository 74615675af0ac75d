using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Max and Min (variadic, broadcasting): the gradient goes to the inputs equal to the result, shared equally among
/// tied inputs (PyTorch's maximum/minimum give half to each of two tied inputs), each share summed back to its shape.
/// </summary>
internal sealed class MaxMinRule : IGradientRule
{
    public MaxMinRule(string opType) => OpType = opType;

    public string OpType { get; }

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !node.Input.Any(e.NeedsGradient)) return;
        string y = node.Output[0];
        string Hits(string x) => e.Op("Cast", new[] { e.Op("Equal", x, y) }, Attr.Int("to", (long)TensorProto.Types.DataType.Float));
        string[] hits = node.Input.Select(Hits).ToArray(); // one per input position: Max(a, a) ties a with itself
        string share = e.Op("Div", g, hits.Length == 1 ? hits[0] : e.Op("Sum", hits));
        for (int i = 0; i < hits.Length; i++)
            if (e.NeedsGradient(node.Input[i])) e.Accumulate(node.Input[i], e.Unbroadcast(e.Mul(share, hits[i]), node.Input[i]));
    }
}
