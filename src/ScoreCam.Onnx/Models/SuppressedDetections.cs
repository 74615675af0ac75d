using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// A detector that runs non-maximum suppression inside its graph (torchvision's detection models, most exporters) outputs
/// its kept detections as <c>boxes</c> K×4 (x0, y0, x1, y1 in input pixels), <c>scores</c> K and <c>labels</c> K, with K
/// varying from one image to the next. Preparation adds one output of a fixed shape that the rest of the library reads
/// like any other: 1 × <see cref="Rows"/> × 6, row j = (x0, y0, x1, y1, score, label) of detection j in the graph's order
/// (torchvision's: by decreasing score), the rows after the K-th filled with "no detection" (zero box, score and label -1).
/// Built from Reshape, Cast, Concat and Gather, which every opset has in the same form.
/// </summary>
public static class SuppressedDetections
{
    /// <summary>The name of the added output.</summary>
    public const string OutputName = "scorecam_detections";

    /// <summary>
    /// Rows of the added output: the most detections it holds (torchvision keeps at most 300 per image by default).
    /// A model that returns more fills the last row, which the decoding refuses rather than drop detections unseen.
    /// </summary>
    public const int Rows = 1000;

    /// <summary>The score and label of the rows that hold no detection.</summary>
    public const float Empty = -1f;

    private const string Prefix = "scorecam/detections/";

    /// <summary>
    /// The NonMaxSuppression node of <paramref name="graph"/> or of a graph nested in it (torchvision puts it in an If
    /// branch), or null.
    /// </summary>
    internal static NodeProto? Suppression(GraphProto graph) =>
        GraphIndex.WithSubgraphs(graph).SelectMany(g => g.Node).FirstOrDefault(n => n.OpType == "NonMaxSuppression" && n.Domain is "" or "ai.onnx");

    /// <summary>
    /// The outputs holding the kept boxes, scores and labels, when the graph has suppression inside and its outputs are
    /// one float K×4, one float K and one integer or float K (torchvision's names <c>boxes</c>, <c>scores</c>,
    /// <c>labels</c> decide where the declared types are ambiguous); else null.
    /// </summary>
    internal static (string Boxes, string Scores, string Labels)? Find(GraphProto graph)
    {
        if (Suppression(graph) is null) return null;
        var outputs = graph.Output.ToList();
        static int Rank(ValueInfoProto v) => v.Type?.TensorType?.Shape?.Dim.Count ?? -1;
        static bool IsFloat(ValueInfoProto v) => v.Type?.TensorType?.ElemType == (int)TensorProto.Types.DataType.Float;
        var named = new[] { "boxes", "scores", "labels" }.Select(n => outputs.FirstOrDefault(o => o.Name == n)).ToArray();
        if (named.All(o => o is not null)) return (named[0]!.Name, named[1]!.Name, named[2]!.Name);
        var boxes = outputs.Where(o => IsFloat(o) && Rank(o) == 2 && o.Type.TensorType.Shape.Dim[1].DimValue == 4).ToList();
        var floats = outputs.Where(o => IsFloat(o) && Rank(o) == 1).ToList();
        var integers = outputs.Where(o => !IsFloat(o) && Rank(o) == 1).ToList();
        return outputs.Count == 3 && boxes.Count == 1 && floats.Count == 1 && integers.Count == 1
            ? (boxes[0].Name, floats[0].Name, integers[0].Name) : null;
    }

    /// <summary>
    /// Adds the output <see cref="OutputName"/> to <paramref name="model"/> when its graph outputs suppressed detections
    /// (<see cref="Find"/>) and does not have it yet; returns whether the model has it.
    /// </summary>
    internal static bool Add(ModelProto model)
    {
        GraphProto graph = model.Graph;
        if (graph.Output.Any(o => o.Name == OutputName)) return true;
        if (Find(graph) is not var (boxes, scores, labels)) return false;

        string Initializer(string name, TensorProto.Types.DataType type, long[] dims, Action<TensorProto> fill)
        {
            var t = new TensorProto { Name = Prefix + name, DataType = (int)type };
            t.Dims.AddRange(dims);
            fill(t);
            graph.Initializer.Add(t);
            return t.Name;
        }
        void Node(string op, string output, string[] inputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = Prefix + output };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
            graph.Node.Add(node);
        }
        static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        string column = Initializer("column", TensorProto.Types.DataType.Int64, new long[] { 2 }, t => t.Int64Data.AddRange(new long[] { -1, 1 }));
        string boxRows = Initializer("box_rows", TensorProto.Types.DataType.Int64, new long[] { 2 }, t => t.Int64Data.AddRange(new long[] { -1, 4 }));
        string empty = Initializer("empty", TensorProto.Types.DataType.Float, new long[] { Rows, 6 },
            t => t.FloatData.AddRange(Enumerable.Range(0, Rows).SelectMany(_ => new[] { 0f, 0f, 0f, 0f, Empty, Empty })));
        string first = Initializer("first_rows", TensorProto.Types.DataType.Int64, new long[] { Rows }, t => t.Int64Data.AddRange(Enumerable.Range(0, Rows).Select(i => (long)i)));
        string batch = Initializer("batch_shape", TensorProto.Types.DataType.Int64, new long[] { 3 }, t => t.Int64Data.AddRange(new long[] { 1, Rows, 6 }));

        Node("Reshape", Prefix + "boxes", new[] { boxes, boxRows });
        Node("Reshape", Prefix + "scores", new[] { scores, column });
        Node("Cast", Prefix + "labels_float", new[] { labels }, Int("to", (long)TensorProto.Types.DataType.Float));
        Node("Reshape", Prefix + "labels", new[] { Prefix + "labels_float", column });
        Node("Concat", Prefix + "kept", new[] { Prefix + "boxes", Prefix + "scores", Prefix + "labels" }, Int("axis", 1));
        Node("Concat", Prefix + "padded", new[] { Prefix + "kept", empty }, Int("axis", 0));
        Node("Gather", Prefix + "rows", new[] { Prefix + "padded", first }, Int("axis", 0));
        Node("Reshape", OutputName, new[] { Prefix + "rows", batch });

        var shape = new TensorShapeProto();
        foreach (long d in new long[] { 1, Rows, 6 }) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        graph.Output.Add(new ValueInfoProto
        {
            Name = OutputName,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        });
        return true;
    }
}
