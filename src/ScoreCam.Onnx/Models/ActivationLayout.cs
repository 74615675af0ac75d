using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Reads a target layer's tensor as K activation maps of h×w whatever its layout, as pytorch-grad-cam's
/// reshape_transform does, but derived from the shapes: tokens N×T×K have P prefix tokens and an h×w patch grid of
/// square patches (p = H/h = W/w for the H×W input), channels-last maps N×h×w×K a grid of the same kind. The
/// rearrangements are ONNX nodes, so the prepared model, the gradient graphs and the tail all give and take N×K×h×w.
/// </summary>
internal static class ActivationLayout
{
    public const string MapsSuffix = "/scorecam_maps";
    // Class and distillation tokens, and a few register tokens: more prefix tokens than this are not looked for.
    private const int MaxPrefixTokens = 8;

    /// <summary>
    /// The layer a tensor of <paramref name="shape"/> (batch first) is, or null when it holds no maps of the
    /// <paramref name="inputHeight"/>×<paramref name="inputWidth"/> input's grid. <paramref name="convLayout"/> is true
    /// when the tensor is known to be N×K×h×w (it comes from a convolution through block ops), false when a 4-D tensor is
    /// known not to be (a normalisation over its last axis), null when unknown: a 4-D tensor is then read channels last
    /// only when it cannot be N×K×h×w of the input's grid.
    /// </summary>
    public static TargetLayer? Read(string tensor, NodeProto? node, long[] shape, bool? convLayout, long inputHeight, long inputWidth)
    {
        TargetLayer Layer(LayerLayout layout, long k, long h, long w, int prefix = 0) =>
            new(tensor, node?.Name, node?.OpType, (int)k, (int)h, (int)w) { Layout = layout, PrefixTokens = prefix };
        bool lastGrid = shape.Length == 4 && IsPatchGrid(shape[1], shape[2], inputHeight, inputWidth);
        if (shape.Length == 4
            && (convLayout == true || !lastGrid || convLayout is null && IsPatchGrid(shape[2], shape[3], inputHeight, inputWidth)))
            return Layer(LayerLayout.ChannelsFirst, shape[1], shape[2], shape[3]);
        if (lastGrid)
            return Layer(LayerLayout.ChannelsLast, shape[3], shape[1], shape[2]);
        if (shape.Length == 3 && TokenGrid(shape[1], inputHeight, inputWidth) is var (prefix, h, w))
            return Layer(LayerLayout.Tokens, shape[2], h, w, prefix);
        return null;
    }

    /// <summary>
    /// The fewest prefix tokens P for which the other T − P tokens are an h×w grid of square patches of the input
    /// (h·w &gt; 1), or null when there is none.
    /// </summary>
    public static (int Prefix, long Height, long Width)? TokenGrid(long tokens, long inputHeight, long inputWidth)
    {
        for (int prefix = 0; prefix <= MaxPrefixTokens && prefix < tokens; prefix++)
        {
            long cells = tokens - prefix;
            // p² = H·W / cells must be a whole square whose root divides both sides.
            if (inputHeight * inputWidth % cells != 0) continue;
            long area = inputHeight * inputWidth / cells, p = (long)Math.Round(Math.Sqrt(area));
            if (p > 0 && p * p == area && IsPatchGrid(inputHeight / p, inputWidth / p, inputHeight, inputWidth)) return (prefix, inputHeight / p, inputWidth / p);
        }
        return null;
    }

    /// <summary>True when h×w (h·w &gt; 1) tiles the H×W input with square patches.</summary>
    public static bool IsPatchGrid(long h, long w, long inputHeight, long inputWidth) =>
        h > 0 && w > 0 && h * w > 1 && inputHeight % h == 0 && inputWidth % w == 0 && inputHeight / h == inputWidth / w;

    /// <summary>Adds to <paramref name="graph"/> the nodes that rearrange <paramref name="source"/> (laid out as the layer) into <paramref name="output"/>, N×K×h×w.</summary>
    public static void AddMapsNodes(GraphProto graph, TargetLayer layer, string source, string output)
    {
        string name = output + "/";
        switch (layer.Layout)
        {
            case LayerLayout.ChannelsLast:
                graph.Node.Add(Node("Transpose", name, new[] { source }, output, Perm(0, 3, 1, 2)));
                break;
            case LayerLayout.Tokens:
                // Drop the prefix tokens, put the grid's rows and columns apart, channels first.
                string grid = name + "grid", cells = name + "cells";
                graph.Node.Add(Node("Slice", name, new[] { source, Ints(graph, name + "start", layer.PrefixTokens), Ints(graph, name + "end", long.MaxValue), Ints(graph, name + "axis", 1) }, cells));
                graph.Node.Add(Node("Reshape", name, new[] { cells, Ints(graph, name + "shape", -1, layer.Height, layer.Width, layer.Channels) }, grid));
                graph.Node.Add(Node("Transpose", name, new[] { grid }, output, Perm(0, 3, 1, 2)));
                break;
            default:
                graph.Node.Add(Node("Identity", name, new[] { source }, output));
                break;
        }
    }

    /// <summary>
    /// Adds the inverse: <paramref name="maps"/> (N×K×h×w) laid out as the layer in <paramref name="output"/>; tokens get
    /// their prefix tokens from <paramref name="prefixFrom"/>, the layer's own tensor (null when it has none).
    /// </summary>
    public static void AddLayerNodes(GraphProto graph, TargetLayer layer, string maps, string? prefixFrom, string output)
    {
        string name = output + "/";
        switch (layer.Layout)
        {
            case LayerLayout.ChannelsLast:
                graph.Node.Add(Node("Transpose", name, new[] { maps }, output, Perm(0, 2, 3, 1)));
                break;
            case LayerLayout.Tokens:
                string cells = name + "cells";
                graph.Node.Add(Node("Reshape", name, new[] { Transposed(graph, name, maps), Ints(graph, name + "shape", -1, (long)layer.Height * layer.Width, layer.Channels) }, cells));
                if (layer.PrefixTokens == 0)
                {
                    graph.Node.Add(Node("Identity", name, new[] { cells }, output));
                    break;
                }
                string prefix = name + "prefix";
                graph.Node.Add(Node("Slice", name, new[] { prefixFrom ?? throw new ArgumentNullException(nameof(prefixFrom)), Ints(graph, name + "start", 0),
                    Ints(graph, name + "end", layer.PrefixTokens), Ints(graph, name + "axis", 1) }, prefix));
                var concat = Node("Concat", name, new[] { prefix, cells }, output);
                concat.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                graph.Node.Add(concat);
                break;
            default:
                graph.Node.Add(Node("Identity", name, new[] { maps }, output));
                break;
        }
    }

    private static string Transposed(GraphProto graph, string name, string maps)
    {
        string t = name + "channels_last";
        graph.Node.Add(Node("Transpose", name, new[] { maps }, t, Perm(0, 2, 3, 1)));
        return t;
    }

    private static NodeProto Node(string op, string prefix, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = prefix + op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Perm(params long[] perm)
    {
        var a = new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(perm);
        return a;
    }

    private static string Ints(GraphProto graph, string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        graph.Initializer.Add(t);
        return name;
    }
}
