using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Makes a channels-last model (an N×H×W×C image input, as TensorFlow exports through tf2onnx) take N×C×H×W: the
/// input is redeclared channels-first and a Transpose back to channels-last is put in front of the graph. ONNX
/// Runtime cancels it against the Transpose that such exports start with, so the model runs as fast as before.
/// </summary>
internal static class ChannelsLastInput
{
    private static readonly long[] ToChannelsLast = { 0, 2, 3, 1 };
    private static readonly long[] ToChannelsFirst = { 0, 3, 1, 2 };

    /// <summary>True for a 4-D input whose last dimension holds 1 or 3 channels and whose second does not.</summary>
    public static bool Detect(ValueInfoProto input)
    {
        var d = ModelPreparer.Dims(input);
        return d.Count == 4 && d[1] is not (1 or 3) && d[3] is 1 or 3;
    }

    /// <summary>Rewrites <paramref name="model"/> in place and returns the sentence that tells the user what was done.</summary>
    public static string Fold(ModelProto model, string inputName)
    {
        GraphProto graph = model.Graph;
        ValueInfoProto input = graph.Input.First(i => i.Name == inputName);
        var existing = graph.Node.SelectMany(n => n.Output).Concat(graph.Input.Select(i => i.Name)).ToHashSet(StringComparer.Ordinal);
        string inner = inputName + "_channels_last";
        while (existing.Contains(inner)) inner += "_";

        bool startsWithTranspose = graph.Node.Where(n => n.Input.Contains(inputName))
            .All(n => n.OpType == "Transpose" && n.Attribute.FirstOrDefault(a => a.Name == "perm")?.Ints.SequenceEqual(ToChannelsFirst) == true);
        foreach (NodeProto node in graph.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == inputName) node.Input[i] = inner;

        var transpose = new NodeProto { OpType = "Transpose", Name = "scorecam_channels_last", Input = { inputName }, Output = { inner } };
        var perm = new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints };
        perm.Ints.AddRange(ToChannelsLast);
        transpose.Attribute.Add(perm);
        graph.Node.Insert(0, transpose);

        var dims = input.Type.TensorType.Shape.Dim;
        var (n, h, w, c) = (dims[0], dims[1], dims[2], dims[3]);
        dims.Clear();
        dims.Add(new[] { n, c, h, w });
        return $"Input '{inputName}' is channels-last (N×H×W×C{(startsWithTranspose ? ", followed by a Transpose to N×C×H×W as tf2onnx exports" : "")}); " +
               "the prepared model takes N×C×H×W and transposes it back inside the graph.";
    }
}
