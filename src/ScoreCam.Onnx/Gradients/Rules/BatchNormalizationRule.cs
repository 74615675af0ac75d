using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>BatchNormalization at inference: y = (x − mean)·scale/√(var + ε) + B, so dx = g·scale/√(var + ε) per channel.</summary>
internal sealed class BatchNormalizationRule : IGradientRule
{
    public string OpType => "BatchNormalization";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        if (Attr.GetInt(node, "training_mode", 0) != 0) throw e.Unsupported("runs in training mode");
        if (node.Input.Skip(1).Any(e.NeedsGradient)) throw e.Unsupported("has statistics computed from the activations");
        string x = node.Input[0], scale = node.Input[1], variance = node.Input[4];
        string factor = e.Op("Div", scale, e.Op("Sqrt", e.Op("Add", variance, e.Scalar(Attr.GetFloat(node, "epsilon", 1e-5f)))));
        long[] perChannel = new long[] { -1 }.Concat(Enumerable.Repeat(1L, Math.Max(0, e.Rank(x) - 2))).ToArray();
        e.Accumulate(x, e.Mul(g, e.Reshape(factor, e.Int64s(perChannel))));
    }
}
