using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients.Rules;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// Rewrites a head node from an older opset (before 13) into the gradient graph's opset (16) with the same meaning:
/// attributes that later opsets take as inputs (Squeeze/Unsqueeze/ReduceSum axes, Split sizes, Clip bounds, Pad
/// pads) become constant inputs, attributes that were dropped are removed, and Softmax's old "coerce to 2-D"
/// semantics become Flatten → Softmax → Reshape. Ops whose meaning cannot be carried over give a clear error.
/// </summary>
internal static class OpsetUpgrade
{
    private static readonly HashSet<string> Removed = new(StringComparer.Ordinal) { "Upsample", "Scatter", "ImageScaler", "Crop", "Affine", "ScaledTanh", "ParametricSoftplus", "GRUUnit", "ATen" };

    /// <param name="node">A clone of the head node (modified in place).</param>
    /// <param name="opset">The model's default-domain opset.</param>
    /// <param name="constant">Adds an initializer and returns its name.</param>
    /// <returns>The nodes that replace <paramref name="node"/>.</returns>
    public static IReadOnlyList<NodeProto> Apply(NodeProto node, long opset, Func<TensorProto, string> constant)
    {
        if (opset >= 13 || node.Domain is not ("" or "ai.onnx")) return new[] { node };
        // The nodes of an If's branches and a Loop's or Scan's body run in the gradient graph's opset too.
        foreach (GraphProto body in GraphIndex.Subgraphs(node))
        {
            var upgraded = body.Node.SelectMany(inner => Apply(inner, opset, constant)).ToList();
            body.Node.Clear();
            body.Node.AddRange(upgraded);
        }
        if (Removed.Contains(node.OpType))
            throw new ScoreCamException(
                $"Cannot build the gradient graph: node '{node.Name}' uses {node.OpType}, which opset {opset} has but later opsets removed. Re-export the model with opset 13 or later.");
        RemoveAttribute(node, "consumed_inputs");
        switch (node.OpType)
        {
            case "Squeeze" or "Unsqueeze" or "ReduceSum":
                MoveToInput(node, "axes", 1, constant);
                break;
            case "Split":
                MoveToInput(node, "split", 1, constant);
                break;
            case "Dropout":
                RemoveAttribute(node, "ratio");
                RemoveAttribute(node, "is_test");
                break;
            case "BatchNormalization":
                if (Attr.GetInt(node, "spatial", 1) == 0)
                    throw new ScoreCamException($"Cannot build the gradient graph: node '{node.Name}' is a non-spatial BatchNormalization (opset {opset}), which later opsets do not have.");
                RemoveAttribute(node, "spatial");
                RemoveAttribute(node, "is_test");
                RemoveAttribute(node, "momentum");
                break;
            case "Clip" when opset < 11:
                float min = Attr.GetFloat(node, "min", float.MinValue), max = Attr.GetFloat(node, "max", float.MaxValue);
                RemoveAttribute(node, "min");
                RemoveAttribute(node, "max");
                node.Input.Add(constant(Scalar(min)));
                node.Input.Add(constant(Scalar(max)));
                break;
            case "Pad" when opset < 11:
                MoveToInput(node, "pads", 1, constant);
                float value = Attr.GetFloat(node, "value", 0f);
                RemoveAttribute(node, "value");
                node.Input.Add(constant(Scalar(value)));
                break;
            case "Softmax" or "LogSoftmax" or "Hardmax":
                return CoerceTo2D(node, constant);
        }
        return new[] { node };
    }

    /// <summary>Before opset 13 Softmax flattened its input to 2-D at <c>axis</c> (default 1) and normalized the second dimension.</summary>
    private static IReadOnlyList<NodeProto> CoerceTo2D(NodeProto node, Func<TensorProto, string> constant)
    {
        long axis = Attr.GetInt(node, "axis", 1);
        string x = node.Input[0], y = node.Output[0], prefix = $"upgrade/{node.Name}/";
        var shape = new NodeProto { OpType = "Shape", Name = prefix + "shape", Input = { x }, Output = { prefix + "shape" } };
        var flatten = new NodeProto { OpType = "Flatten", Name = prefix + "flatten", Input = { x }, Output = { prefix + "flat" }, Attribute = { Attr.Int("axis", axis) } };
        var softmax = new NodeProto { OpType = node.OpType, Name = node.Name, Input = { prefix + "flat" }, Output = { prefix + "normalized" }, Attribute = { Attr.Int("axis", 1) } };
        var reshape = new NodeProto { OpType = "Reshape", Name = prefix + "reshape", Input = { prefix + "normalized", prefix + "shape" }, Output = { y } };
        return new[] { shape, flatten, softmax, reshape };
    }

    private static void MoveToInput(NodeProto node, string attribute, int index, Func<TensorProto, string> constant)
    {
        if (Attr.GetInts(node, attribute) is not { } values) return;
        RemoveAttribute(node, attribute);
        var t = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        while (node.Input.Count < index) node.Input.Add("");
        node.Input.Insert(index, constant(t));
    }

    private static TensorProto Scalar(float value) => new() { DataType = (int)TensorProto.Types.DataType.Float, FloatData = { value } };

    private static void RemoveAttribute(NodeProto node, string name)
    {
        foreach (AttributeProto a in node.Attribute.Where(a => a.Name == name).ToList()) node.Attribute.Remove(a);
    }
}
