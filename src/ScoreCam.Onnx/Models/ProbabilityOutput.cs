using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// A score output read from one or more Softmax outputs through nodes that only select or rearrange their elements
/// (<see cref="SelectionOps"/>). Each output element is then the Softmax probability of one element of a Softmax's
/// input: the output holds probabilities even where a Gather or Slice keeps only some of the values a Softmax
/// normalises together (they no longer sum to 1, but each is still that element's probability, the score of eq. 3-4),
/// and the element's pre-softmax score is the same selection applied to the Softmax's input.
/// </summary>
internal sealed class ProbabilityOutput
{
    /// <summary>Ops that move or pick elements without computing new values (a Cast only to a float type).</summary>
    public static readonly IReadOnlySet<string> SelectionOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Gather", "Slice", "Cast", "Concat",
    };

    /// <summary>Ops that keep the elements in their memory order (the row's layout is unchanged).</summary>
    public static readonly IReadOnlySet<string> LayoutOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze",
    };

    private static readonly HashSet<int> FloatTypes = new()
    {
        (int)TensorProto.Types.DataType.Float, (int)TensorProto.Types.DataType.Float16,
        (int)TensorProto.Types.DataType.Double, (int)TensorProto.Types.DataType.Bfloat16,
    };

    private ProbabilityOutput(IReadOnlyList<NodeProto> softmaxes, IReadOnlyList<NodeProto> selection) =>
        (Softmaxes, Selection) = (softmaxes, selection);

    /// <summary>The Softmax nodes the output is read from, in graph order.</summary>
    public IReadOnlyList<NodeProto> Softmaxes { get; }

    /// <summary>The nodes between the Softmaxes and the output, in graph order; empty when the output is a Softmax's.</summary>
    public IReadOnlyList<NodeProto> Selection { get; }

    /// <summary>True when the selection only reshapes one Softmax's output (its input has the output's elements in order).</summary>
    public bool IsReshape => Softmaxes.Count == 1 && Selection.All(n => LayoutOps.Contains(n.OpType));

    /// <summary>
    /// The Softmaxes and selection nodes behind <paramref name="output"/>, or null when some value on the way is
    /// computed by another op (or is a weight or graph input): the output is then not a probability.
    /// </summary>
    public static ProbabilityOutput? Trace(GraphIndex index, string output)
    {
        var softmaxes = new SortedSet<int>();
        var selection = new SortedSet<int>();
        var stack = new Stack<string>();
        stack.Push(output);
        while (stack.Count > 0)
        {
            if (!index.Producer.TryGetValue(stack.Pop(), out int i)) return null;
            NodeProto node = index.Graph.Node[i];
            if (node.OpType == "Softmax" && node.Domain is "" or "ai.onnx")
            {
                softmaxes.Add(i);
                continue;
            }
            if (!IsSelection(node)) return null;
            if (!selection.Add(i)) continue;
            // The data inputs: every input of a Concat, the first of the others (the rest are indices, shapes, axes).
            foreach (string data in node.OpType == "Concat" ? node.Input : node.Input.Take(1)) stack.Push(data);
        }
        return new ProbabilityOutput(softmaxes.Select(i => index.Graph.Node[i]).ToList(), selection.Select(i => index.Graph.Node[i]).ToList());
    }

    private static bool IsSelection(NodeProto node) =>
        node.Domain is "" or "ai.onnx" && node.Input.Count > 0 && SelectionOps.Contains(node.OpType) &&
        (node.OpType != "Cast" || node.Attribute.FirstOrDefault(a => a.Name == "to") is { } to && FloatTypes.Contains((int)to.I));
}
