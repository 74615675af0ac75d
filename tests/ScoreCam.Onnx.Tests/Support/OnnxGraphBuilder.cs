using Google.Protobuf;
using Onnx;

namespace ScoreCam.Onnx.Tests.Support;

/// <summary>Builds small ONNX graphs in code, for tests whose right answer is known by construction.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly ModelProto _model = new()
    {
        IrVersion = 8,
        ProducerName = "ScoreCam.Onnx.Tests",
        Graph = new GraphProto { Name = "test" },
    };
    private int _next;

    public OnnxGraphBuilder(int opset = 13) => _model.OpsetImport.Add(new OperatorSetIdProto { Version = opset });

    public GraphProto Graph => _model.Graph;

    public string Input(string name, params long?[] dims)
    {
        _model.Graph.Input.Add(Value(name, dims));
        return name;
    }

    public OnnxGraphBuilder Output(string name, params long?[] dims)
    {
        _model.Graph.Output.Add(Value(name, dims));
        return this;
    }

    public string Weights(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        _model.Graph.Initializer.Add(tensor);
        return name;
    }

    public string Int64s(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _model.Graph.Initializer.Add(tensor);
        return name;
    }

    public string Node(string op, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        output ??= $"{op.ToLowerInvariant()}_{_next++}";
        var node = new NodeProto { OpType = op, Name = $"{op}_{_next++}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _model.Graph.Node.Add(node);
        return output;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public byte[] Build() => _model.ToByteArray();

    public string Save(string path)
    {
        File.WriteAllBytes(path, Build());
        return path;
    }

    /// <summary>
    /// Saves the model with the named float initializers moved to one external data file at <paramref name="location"/>
    /// (relative to the model's folder, as onnx.save_model(save_as_external_data=True) writes it).
    /// </summary>
    public string SaveWithExternalData(string path, string location, params string[] tensors)
    {
        ModelProto model = _model.Clone();
        using var data = new MemoryStream();
        foreach (TensorProto t in model.Graph.Initializer.Where(t => tensors.Contains(t.Name)))
        {
            byte[] bytes = t.FloatData.SelectMany(BitConverter.GetBytes).ToArray();
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = data.Length.ToString() });
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString() });
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.FloatData.Clear();
            data.Write(bytes);
        }
        string dataPath = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, location));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(dataPath)!);
        File.WriteAllBytes(dataPath, data.ToArray());
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    private static ValueInfoProto Value(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long? d in dims)
            shape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
