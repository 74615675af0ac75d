using Onnx;
using ScoreCam.Onnx.Gradients.Rules;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// Carries the groups the final Softmaxes normalise (<see cref="SoftmaxAxis"/>) through the nodes that select or
/// rearrange their elements (<see cref="ProbabilityOutput"/>) to the output row: unchanged by a reshape, moved by a
/// Transpose, Gather or Slice along another axis, kept by a Concat of like inputs (along another axis, or along the
/// groups' own when it is all of each group). A selection
/// that keeps only part of a group, or leaves groups that are not evenly spaced runs, gives a refused grouping.
/// </summary>
internal static class SoftmaxGrouping
{
    /// <param name="selection">The selection nodes in graph order, reading the tensors of <paramref name="start"/>.</param>
    /// <param name="start">Each Softmax's grouping, keyed by the tensor the selection reads in its place.</param>
    /// <param name="shapes">The tensors' shapes at batch size 1.</param>
    /// <param name="output">The last selection node's output.</param>
    /// <param name="describe">The output, for messages: "the output 'NAME' of model 'SOURCE'".</param>
    /// <param name="nameOf">The name of the model's node a selection node copies, for messages.</param>
    public static SoftmaxAxis Through(IReadOnlyList<NodeProto> selection, IReadOnlyDictionary<string, SoftmaxAxis> start,
        IReadOnlyDictionary<string, long[]> shapes, string output, string describe, Func<NodeProto, string> nameOf)
    {
        var groups = new Dictionary<string, SoftmaxAxis>(start, StringComparer.Ordinal);
        foreach (NodeProto node in selection) groups[node.Output[0]] = Step(node, groups, shapes, $"{describe}: node '{nameOf(node)}' ({node.OpType})");
        return groups[output];
    }

    /// <summary>The grouping of <paramref name="node"/>'s output; <paramref name="describe"/> names the output and the node for messages.</summary>
    private static SoftmaxAxis Step(NodeProto node, Dictionary<string, SoftmaxAxis> groups, IReadOnlyDictionary<string, long[]> shapes, string describe)
    {
        var inputs = (node.OpType == "Concat" ? node.Input : node.Input.Take(1)).ToList();
        if (inputs.Select(i => groups[i]).FirstOrDefault(g => g.Refusal is not null) is { } refused) return refused;
        SoftmaxAxis group = groups[inputs[0]];
        if (ProbabilityOutput.LayoutOps.Contains(node.OpType) || node.OpType == "Cast") return group;

        long[] inShape = shapes[inputs[0]], outShape = shapes[node.Output[0]];
        if (Axes(group, inShape) is not { } axes) return Uneven(describe);
        int[] moved;
        switch (node.OpType)
        {
            case "Transpose":
                long[] perm = Attr.GetInts(node, "perm") ?? Enumerable.Range(0, inShape.Length).Reverse().Select(i => (long)i).ToArray();
                moved = Enumerable.Range(0, perm.Length).Where(i => axes.Contains((int)perm[i])).ToArray();
                break;
            case "Gather":
                int axis = Normalise(Attr.GetInt(node, "axis", 0), inShape.Length);
                if (axes.Contains(axis)) return Partial(describe);
                int indexRank = outShape.Length - inShape.Length + 1; // the indices replace the gathered axis
                moved = axes.Select(a => a < axis ? a : a + indexRank - 1).ToArray();
                break;
            case "Slice":
                if (axes.Any(a => outShape[a] != inShape[a])) return Partial(describe);
                moved = axes;
                break;
            case "Concat":
                int joined = Normalise(Attr.GetInt(node, "axis", 0), inShape.Length);
                if (inputs.Skip(1).Any(i => !shapes[i].SequenceEqual(inShape) || Axes(groups[i], shapes[i]) is not { } other || !other.SequenceEqual(axes)))
                    return Uneven(describe);
                // Like groups side by side along their own axis: runs of the same length and spacing, one input's after another's.
                if (axes.SequenceEqual(new[] { joined })) return group;
                if (axes.Contains(joined)) return Uneven(describe);
                moved = axes;
                break;
            default:
                throw new InvalidOperationException($"{node.OpType} is not a selection op.");
        }
        return Flat(moved, outShape) ?? Uneven(describe);
    }

    /// <summary>
    /// The axes of <paramref name="shape"/> a group spans: the contiguous ones (batch axis excluded, size-1 axes at
    /// the end left out) whose product is the group's length and after which Inner values follow; null if none.
    /// </summary>
    private static int[]? Axes(SoftmaxAxis group, long[] shape)
    {
        long inner = 1;
        for (int last = shape.Length - 1; last >= 1; inner *= shape[last], last--)
        {
            if (inner != group.Inner || shape[last] == 1 && group.Length != 1) continue;
            long length = 1;
            for (int first = last; first >= 1; first--)
            {
                length *= shape[first];
                if (length == group.Length) return Enumerable.Range(first, last - first + 1).ToArray();
                if (length > group.Length) return null;
            }
            return null;
        }
        return null;
    }

    /// <summary>The grouping of contiguous <paramref name="axes"/> in <paramref name="shape"/>, or null when they are not contiguous.</summary>
    private static SoftmaxAxis? Flat(int[] axes, long[] shape)
    {
        if (axes.Length == 0 || axes.Zip(axes.Skip(1)).Any(p => p.Second != p.First + 1)) return null;
        long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, d) => a * d);
        return new SoftmaxAxis((int)Product(axes.Select(a => shape[a])), (int)Product(shape.Skip(axes[^1] + 1)));
    }

    private static int Normalise(long axis, int rank) => (int)(axis < 0 ? axis + rank : axis);

    private static SoftmaxAxis Partial(string describe) => SoftmaxAxis.Refused(
        $"Cannot differentiate a probability of {describe} keeps only some of the values a Softmax " +
        "normalises together, and the gradient of a probability needs all of them. Each output value is still a probability, and its " +
        "pre-softmax score can be differentiated; to differentiate probabilities, score the Softmax's whole output, or its input exported as an output " +
        "(ModelPreparationOptions.OutputName).");

    private static SoftmaxAxis Uneven(string describe) => SoftmaxAxis.Refused(
        $"Cannot differentiate a probability of {describe} leaves the values a Softmax normalises together in other than " +
        "evenly spaced runs of the output row. Its pre-softmax scores can still be differentiated; to differentiate " +
        "probabilities, score the Softmax's output itself, or its input exported as an output (ModelPreparationOptions.OutputName).");
}
