using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Finds the paper's "last convolutional layer": the output of the last spatial convolution block (after its
/// activation, and after the residual Add where there is one) that feeds the pooling/flatten head; in a vision
/// transformer, the last block's normalised tokens (or channels-last maps).
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
    /// Spatial (N×K×h×w, h·w &gt; 1) conv-layout feature maps and normalised transformer layers (tokens N×T×K on the
    /// input's patch grid, channels-last maps N×h×w×K) on the path to the output, in graph order;
    /// <paramref name="shapes"/> holds the runtime shapes of the input's data tensors, the input's among them.
    /// </summary>
    public static List<LayerCandidate> Candidates(GraphIndex index, string inputName, string outputName, IReadOnlyDictionary<string, long[]> shapes)
    {
        var derived = index.DataDerivedFrom(inputName);
        var ancestors = index.Ancestors(outputName);
        long height = shapes[inputName][2], width = shapes[inputName][3];
        // A feature map keeps the conv layout (N×K×h×w) from a Conv through block ops; a Transpose, Reshape or pooling
        // ends it, so channels-last stretches (ConvNeXt's LayerNorm blocks) and pooled heads are conv candidates never.
        var convLayout = new HashSet<string>(StringComparer.Ordinal);
        var tensors = new List<(string Tensor, NodeProto Node, bool Conv)>();
        foreach (NodeProto node in index.Graph.Node)
        {
            if (!BlockOps.Contains(node.OpType) || node.Output.Count == 0) continue;
            string t = node.Output[0];
            if (node.OpType is not ("Conv" or "ConvTranspose") && !node.Input.Any(convLayout.Contains)) continue;
            convLayout.Add(t);
            if (t.Length > 0 && derived.Contains(t) && ancestors.Contains(t) && t != outputName) tensors.Add((t, node, true));
        }
        foreach (string t in NormalisedTensors(index))
            if (!convLayout.Contains(t) && derived.Contains(t) && ancestors.Contains(t) && t != outputName) tensors.Add((t, index.ProducerOf(t)!, false));
        return tensors
            .Where(t => shapes.TryGetValue(t.Tensor, out long[]? s) && (!t.Conv || IsSpatial(s)))
            .OrderBy(t => index.Producer[t.Tensor])
            .Select(t => ActivationLayout.Read(t.Tensor, t.Node, shapes[t.Tensor], shapes[t.Tensor].Length == 4 ? t.Conv : null, height, width) is { } layer
                && (t.Conv ? layer.Layout == LayerLayout.ChannelsFirst : layer.Layout != LayerLayout.ChannelsFirst)
                ? LayerCandidate.Of(layer, shapes[t.Tensor]) : null)
            .OfType<LayerCandidate>()
            .ToList();
    }

    /// <summary>
    /// The automatic choice among <paramref name="candidates"/>, or null when there is none: the last convolutional
    /// feature map that every path from the input to the output passes through (in a multi-head detector, the last
    /// map the heads share: a map inside one head leaves the other heads' scores unchanged), or where transformer
    /// layers come after it, the last block's normalised tokens (its norm1, as pytorch-grad-cam advises: the last
    /// normalised layer that the last attention Softmax reads).
    /// </summary>
    public static LayerCandidate? Choose(GraphIndex index, IReadOnlyList<LayerCandidate> candidates, string inputName, string outputName,
        long classCount, IReadOnlyDictionary<string, long[]> shapes)
    {
        var maps = candidates.Where(c => c.Layout == LayerLayout.ChannelsFirst).ToList();
        var transformer = candidates.Where(c => c.Layout != LayerLayout.ChannelsFirst).ToList();
        if (transformer.Count > 0 && (maps.Count == 0 || index.Producer[transformer[^1].TensorName] > index.Producer[maps[^1].TensorName]))
        {
            NodeProto? attention = index.Graph.Node.LastOrDefault(n => n.OpType == "Softmax" && n.Output[0] != outputName
                && shapes.TryGetValue(n.Input[0], out long[]? s) && s.Length >= 3);
            var read = attention is null ? null : index.Ancestors(attention.Input[0]);
            return transformer.LastOrDefault(c => read?.Contains(c.TensorName) == true) ?? transformer[^1];
        }
        var derived = index.DataDerivedFrom(inputName);
        var shared = maps.Where(c => Dominates(index, derived, inputName, c.TensorName, outputName)).ToList();
        // A segmenter's output is one map per class, N×C×H×W: its classes are C, not C·H·W.
        long classes = shapes.TryGetValue(outputName, out long[]? output) && output.Length == 4 ? output[1] : classCount;
        return ChooseMap(index, shared.Count > 0 ? shared : maps, outputName, classes);
    }

    /// <summary>
    /// Whether every data path from <paramref name="input"/> to <paramref name="output"/> passes through
    /// <paramref name="tensor"/> (it dominates the output): the output is unreachable from the input with it removed.
    /// Shape arithmetic carries no data, so a head that reads a layer's shape only does not bypass it.
    /// </summary>
    private static bool Dominates(GraphIndex index, HashSet<string> derived, string input, string tensor, string output)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { input };
        var stack = new Stack<string>();
        stack.Push(input);
        while (stack.Count > 0)
        {
            if (!index.Consumers.TryGetValue(stack.Pop(), out var consumers)) continue;
            foreach (string next in consumers.SelectMany(i => index.Graph.Node[i].Output))
            {
                if (next == output) return false;
                if (next != tensor && derived.Contains(next) && seen.Add(next)) stack.Push(next);
            }
        }
        return true;
    }

    private static LayerCandidate? ChooseMap(GraphIndex index, IReadOnlyList<LayerCandidate> candidates, string outputName, long classCount)
    {
        if (candidates.Count == 0) return null;
        LayerCandidate last = candidates[^1];
        // A class-map head (SqueezeNet: 1×1 conv to C class channels, then only pooling to the logits; a segmenter's
        // classifier conv, then only resizing to the class maps) is the classifier, not the last feature layer: step
        // back to the input of that conv.
        if (last.Shape[1] == classCount && !HasParametricOpBetween(index, last.TensorName, outputName))
        {
            string? featureInput = InputOfProducingConv(index, last.TensorName);
            LayerCandidate? feature = candidates.LastOrDefault(c => c.TensorName == featureInput);
            if (feature is not null) return feature;
        }
        return last;
    }

    /// <summary>
    /// Outputs of layer normalisations, in graph order: LayerNormalization, or the decomposed form exporters write
    /// before opset 17, (x − mean) / Sqrt(var + ε), with its scale and bias (Mul, Add by constants) when it has them.
    /// </summary>
    private static List<string> NormalisedTensors(GraphIndex index)
    {
        var normalised = new List<string>();
        // Exporters pass shared weights through Identity nodes.
        bool IsConstant(string t) => index.Initializers.Contains(t) || index.ProducerOf(t) is { } p && (p.OpType == "Constant" || p.OpType == "Identity" && IsConstant(p.Input[0]));
        foreach (NodeProto node in index.Graph.Node)
        {
            if (node.Output.Count == 0) continue;
            if (node.OpType == "LayerNormalization"
                || node.OpType == "Div" && index.ProducerOf(node.Input[1])?.OpType == "Sqrt" && index.ProducerOf(node.Input[0])?.OpType == "Sub")
                normalised.Add(node.Output[0]);
            else if (node.OpType is "Mul" or "Add" && node.Input.Count == 2 && normalised.Count > 0
                     && (node.Input[0] == normalised[^1] && IsConstant(node.Input[1]) || node.Input[1] == normalised[^1] && IsConstant(node.Input[0])))
                normalised[^1] = node.Output[0]; // the scale and bias belong to the normalisation
        }
        return normalised;
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
