using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// MaxPool, through the forward node's Indices output (the flat row-major position of each window's maximum):
/// each output's gradient is added at its maximum's position (ScatterElements with reduction = add, so overlapping
/// windows that share a maximum add up). The gradient graph gives every MaxPool an Indices output.
/// </summary>
internal sealed class MaxPoolRule : IGradientRule
{
    public string OpType => "MaxPool";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        if (Attr.GetInt(node, "storage_order", 0) != 0) throw e.Unsupported("uses column-major storage_order");
        string x = node.Input[0], indices = node.Output[1], flat = e.Int64s(-1);
        string zeros = e.Op("ConstantOfShape", new[] { e.Reshape(e.Op("Size", x), flat) }, new AttributeProto
        {
            Name = "value", Type = AttributeProto.Types.AttributeType.Tensor,
            T = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 0f } },
        });
        string scattered = e.Op("ScatterElements", new[] { zeros, e.Reshape(indices, flat), e.Reshape(g, flat) },
            Attr.Int("axis", 0), Attr.String("reduction", "add"));
        e.Accumulate(x, e.Reshape(scattered, e.ShapeOf(x)));
    }
}
