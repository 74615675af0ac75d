using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// A float16 copy of a prepared model, for GPUs' half-precision paths: float weights and constants become float16;
/// the image input stays float32 and is cast to float16 as the graph's first step, and the score and activation
/// outputs are cast back to float32, so callers bind the same float32 buffers. Inputs that ONNX requires to stay
/// float32 whatever the data type (Resize's roi and scales, Upsample's scales) are left as they are.
/// </summary>
internal static class Float16Model
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float, HalfType = (int)TensorProto.Types.DataType.Float16;

    /// <summary>Inputs (op type, input index) that are float32 whatever T is.</summary>
    private static readonly HashSet<(string, int)> FloatOnly = new() { ("Resize", 1), ("Resize", 2), ("Upsample", 1) };

    public static byte[] Convert(PreparedModel model)
    {
        ModelProto proto = model.Proto.Clone();
        GraphProto graph = proto.Graph;
        var keepFloat = new HashSet<string>(graph.Node.SelectMany(n => n.Input.Select((name, i) => (n.OpType, i, name)))
            .Where(x => FloatOnly.Contains((x.OpType, x.i))).Select(x => x.name), StringComparer.Ordinal);

        foreach (TensorProto t in graph.Initializer)
            if (!keepFloat.Contains(t.Name)) ToHalf(t);
        foreach (ValueInfoProto input in graph.Input)
            if (graph.Initializer.Any(t => t.Name == input.Name && t.DataType == HalfType)) input.Type.TensorType.ElemType = HalfType;
        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType == "Constant" && !node.Output.Any(keepFloat.Contains)) HalfConstant(node);
            if (node.OpType is "Cast" or "ConstantOfShape" or "EyeLike" or "RandomNormalLike" or "RandomUniformLike")
                foreach (AttributeProto a in node.Attribute)
                {
                    if (a.Name is "to" or "dtype" && a.I == FloatType) a.I = HalfType;
                    if (a.Name == "value" && a.T is not null) ToHalf(a.T);
                }
        }
        // Types inferred for the float32 graph no longer hold; ONNX Runtime infers them again.
        graph.ValueInfo.Clear();

        // The image input and the fed inputs: cast in the graph, so the caller's float32 buffers are bound unchanged.
        foreach (string input in model.FedInputs.Select(f => f.Name).Prepend(model.Input.Name))
        {
            string half = input + "/float16";
            foreach (NodeProto node in graph.Node) Rename(node.Input, input, half);
            graph.Node.Insert(0, Cast(input, half, HalfType));
        }

        // The outputs (scores, activations): produced in float16 under a new name, cast back to the graph's name.
        foreach (ValueInfoProto output in graph.Output.Where(o => o.Type.TensorType.ElemType == FloatType))
        {
            string half = output.Name + "/float16";
            foreach (NodeProto node in graph.Node)
            {
                Rename(node.Output, output.Name, half);
                Rename(node.Input, output.Name, half);
            }
            graph.Node.Add(Cast(half, output.Name, FloatType));
        }
        return proto.ToByteArray();
    }

    /// <summary>A Constant's float value (a tensor, or value_float / value_floats) as a float16 tensor.</summary>
    private static void HalfConstant(NodeProto node)
    {
        AttributeProto? a = node.Attribute.FirstOrDefault(a => a.Name is "value" or "value_float" or "value_floats");
        if (a is null) return;
        if (a.Name != "value")
        {
            var t = new TensorProto { DataType = FloatType };
            if (a.Name == "value_float") t.FloatData.Add(a.F);
            else
            {
                t.FloatData.AddRange(a.Floats);
                t.Dims.Add(a.Floats.Count);
            }
            node.Attribute.Remove(a);
            node.Attribute.Add(a = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t });
        }
        ToHalf(a.T);
    }

    private static void ToHalf(TensorProto t)
    {
        if (t.DataType != FloatType) return;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new ScoreCamException($"Tensor '{t.Name}' keeps its data in an external file; a float16 copy is made only of models whose weights are inside the .onnx file.");
        float[] values = t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
        var half = new Half[values.Length];
        for (int i = 0; i < values.Length; i++) half[i] = (Half)values[i];
        t.FloatData.Clear();
        t.DataType = HalfType;
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(half.AsSpan()));
    }

    private static void Rename(Google.Protobuf.Collections.RepeatedField<string> names, string from, string to)
    {
        for (int i = 0; i < names.Count; i++)
            if (names[i] == from) names[i] = to;
    }

    private static NodeProto Cast(string from, string to, int type) => new()
    {
        OpType = "Cast",
        Name = "scorecam/cast/" + to,
        Input = { from },
        Output = { to },
        Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = type } },
    };
}
