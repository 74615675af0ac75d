using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// LayerNormalization (opset 17) over the axes from <c>axis</c> to the last, with constant scale and bias:
/// with x̂ = (x − μ)/σ and ĝ = g·scale, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / σ.
/// </summary>
internal sealed class LayerNormalizationRule : IGradientRule
{
    public string OpType => "LayerNormalization";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        if (node.Input.Skip(1).Any(e.NeedsGradient)) throw e.Unsupported("has a scale or bias computed from the activations");
        if (Attr.GetInt(node, "stash_type", 1) != 1) throw e.Unsupported("normalizes in a type other than float");
        string x = node.Input[0];
        int rank = e.Rank(x);
        long axis = Attr.GetInt(node, "axis", -1);
        if (axis < 0) axis += rank;
        if (axis == 0) throw e.Unsupported("normalizes over the batch axis");
        string axes = e.Int64s(Enumerable.Range((int)axis, rank - (int)axis).Select(i => (long)i).ToArray());
        string count = e.Scalar(e.Shape(x).Skip((int)axis).Aggregate(1L, (a, d) => a * d));
        // ReduceSum takes its axes as an input from opset 13 on (ReduceMean only from 18), so the mean is a sum over the count.
        string Mean(string t) => e.Op("Div", e.Op("ReduceSum", new[] { t, axes }, Attr.Int("keepdims", 1)), count);
        string centred = e.Op("Sub", x, Mean(x));
        string sigma = e.Op("Sqrt", e.Op("Add", Mean(e.Mul(centred, centred)), e.Scalar(Attr.GetFloat(node, "epsilon", 1e-5f))));
        string normalized = e.Op("Div", centred, sigma);
        string scaled = e.Mul(g, node.Input[1]);
        string inner = e.Op("Sub", e.Op("Sub", scaled, Mean(scaled)), e.Mul(normalized, Mean(e.Mul(scaled, normalized))));
        e.Accumulate(x, e.Op("Div", inner, sigma));
    }
}
