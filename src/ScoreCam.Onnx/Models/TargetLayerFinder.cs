using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Finds the paper's "last convolutional layer": the output of the last spatial convolution block (after its
/// activation, and after the residual Add where there is one) that feeds the pooling/flatten head.
/// </summary>
internal static class TargetLayerFinder
{
    // Ops that keep a feature map inside a convolution block; pooling, resizing and layout ops end a block.
    private static readonly HashSet<string> BlockOps = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
        "Tanh", "Softplus", "Mish", "Erf", "Add", "Sum", "Sub", "Mul", "Div", "Concat", "Identity", "Dropout",
    };

    private static readonly HashSet<string> ParametricOps = new(StringComparer.Ordinal) { "Conv", "Gemm", "MatMul", "ConvTranspose" };

    /// <summary>
    /// Spatial (N×K×h×w, h·w &gt; 1) conv-layout feature maps on the path to the output, in graph order;
    /// <paramref name="shapes"/> holds the runtime shapes of the input's data tensors.
    /// </summary>
    public static List<LayerCandidate> Candidates(GraphIndex index, string inputName, string outputName, IReadOnlyDictionary<string, long[]> shapes)
    {
        var derived = index.DataDerivedFrom(inputName);
        var ancestors = index.Ancestors(outputName);
        // A feature map keeps the conv layout (N×K×h×w) from a Conv through block ops; a Transpose, Reshape or pooling
        // ends it, so channels-last stretches (ConvNeXt's LayerNorm blocks) and pooled heads are never candidates.
        var convLayout = new HashSet<string>(StringComparer.Ordinal);
        var tensors = new List<(string Tensor, NodeProto Node)>();
        foreach (NodeProto node in index.Graph.Node)
        {
            if (!BlockOps.Contains(node.OpType) || node.Output.Count == 0) continue;
            string t = node.Output[0];
            if (node.OpType is not ("Conv" or "ConvTranspose") && !node.Input.Any(convLayout.Contains)) continue;
            convLayout.Add(t);
            if (t.Length > 0 && derived.Contains(t) && ancestors.Contains(t) && t != outputName) tensors.Add((t, node));
        }
        return tensors
            .Where(t => shapes.TryGetValue(t.Tensor, out var s) && IsSpatial(s))
            .Select(t => new LayerCandidate(t.Tensor, t.Node.Name, t.Node.OpType, shapes[t.Tensor], false))
            .ToList();
    }

    /// <summary>The automatic choice among <paramref name="candidates"/>, or null when there is none.</summary>
    public static LayerCandidate? Choose(GraphIndex index, IReadOnlyList<LayerCandidate> candidates, string outputName, long classCount)
    {
        if (candidates.Count == 0) return null;
        LayerCandidate last = candidates[^1];
        // A class-map head (SqueezeNet: 1×1 conv to C class channels, then only pooling to the logits) is the
        // classifier, not the last feature layer: step back to the input of that conv.
        if (last.Shape[1] == classCount && !HasParametricOpBetween(index, last.TensorName, outputName))
        {
            string? featureInput = InputOfProducingConv(index, last.TensorName);
            LayerCandidate? feature = candidates.LastOrDefault(c => c.TensorName == featureInput);
            if (feature is not null) return feature;
        }
        return last;
    }

    public static bool IsSpatial(long[] shape) => shape.Length == 4 && shape[2] * shape[3] > 1;

    private static bool HasParametricOpBetween(GraphIndex index, string from, string to)
    {
        var below = index.Ancestors(to);
        var above = index.Ancestors(from);
        return below.Where(t => !above.Contains(t))
            .Select(index.ProducerOf)
            .Any(n => n is not null && ParametricOps.Contains(n.OpType));
    }

    private static string? InputOfProducingConv(GraphIndex index, string tensor)
    {
        // Only a conv followed directly by its activation / normalization is a class-map head; an Add on the way
        // (a residual block, as in an embedding trunk whose width equals the output size) is not.
        NodeProto? node = index.ProducerOf(tensor);
        while (node is not null && node.OpType is "Relu" or "Clip" or "LeakyRelu" or "Sigmoid" or "BatchNormalization" or "Identity")
            node = index.ProducerOf(node.Input[0]);
        if (node?.OpType != "Conv") return null;
        string input = node.Input[0];
        for (NodeProto? p = index.ProducerOf(input); p is not null && p.OpType is "Dropout" or "Identity"; p = index.ProducerOf(input))
            input = p.Input[0];
        return input;
    }
}
