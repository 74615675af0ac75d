using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// AveragePool: each output's gradient, divided by its window's divisor, is spread over the window: a depthwise
/// ConvTranspose with a kernel of ones. The divisor is the kernel size, or (count_include_pad = 0 with padding)
/// the number of real input positions in the window.
/// </summary>
internal sealed class AveragePoolRule : IGradientRule
{
    public string OpType => "AveragePool";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string x = node.Input[0];
        long[] kernel = Attr.GetInts(node, "kernel_shape") ?? throw e.Unsupported("has no kernel_shape");
        var geometry = PoolGeometry.Of(node, e, kernel);
        long channels = e.Shape(x)[1], size = kernel.Aggregate(1L, (a, k) => a * k);
        bool padded = geometry.Pads.Any(p => p != 0) || Attr.GetInt(node, "ceil_mode", 0) != 0;
        string scaled;
        if (Attr.GetInt(node, "count_include_pad", 0) == 0 && padded)
        {
            // Real positions per window: the same pooling over ones that counts only the input (times the kernel size).
            string ones = e.Op("ConstantOfShape", new[] { e.ShapeOf(x) }, new AttributeProto
            {
                Name = "value", Type = AttributeProto.Types.AttributeType.Tensor,
                T = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 1f } },
            });
            string fraction = e.Op("AveragePool", new[] { ones }, node.Attribute.Where(a => a.Name != "count_include_pad")
                .Append(Attr.Int("count_include_pad", 1)).ToArray());
            // fraction = real / padded-window size; the padded window is the kernel except where ceil_mode cut it.
            scaled = e.Op("Div", g, e.Mul(fraction, e.Scalar(size)));
        }
        else scaled = e.Mul(g, e.Scalar(1f / size));
        string weights = e.Floats(Enumerable.Repeat(1f, (int)(channels * size)).ToArray(), new[] { channels, 1L }.Concat(kernel).ToArray());
        var attributes = geometry.Transposed(e, node, channels);
        e.Accumulate(x, e.Op("ConvTranspose", new[] { scaled, weights }, attributes));
    }
}
