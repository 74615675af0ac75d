using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Conv (any kernel, stride, padding, dilation, group): the input gradient is the ConvTranspose of g with the same
/// weights and windows, output_padding making its size the input's. The weights and bias are constants here.
/// </summary>
internal sealed class ConvRule : IGradientRule
{
    public string OpType => "Conv";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string x = node.Input[0], w = node.Input[1];
        if (e.NeedsGradient(w) || e.NeedsGradient(Attr.Input(node, 2)))
            throw e.Unsupported("has weights computed from the activations; only constant weights are differentiated");
        if (!e.NeedsGradient(x)) return;
        long[] kernel = Attr.GetInts(node, "kernel_shape") ?? e.Shape(w).Skip(2).ToArray();
        var geometry = PoolGeometry.Of(node, e, kernel);
        e.Accumulate(x, e.Op("ConvTranspose", new[] { g, w }, geometry.Transposed(e, node, Attr.GetInt(node, "group", 1))));
    }
}
