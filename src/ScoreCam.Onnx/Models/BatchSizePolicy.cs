using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Chooses how many masked images go into one ONNX Runtime call for a model: as many as fit a memory budget for the
/// intermediate tensors of one batch, at most <see cref="MaxBatchSize"/>. A model's working memory per image is the
/// peak of its live intermediate tensors when the graph runs in node order (learned from the real shapes), and it
/// grows linearly with the batch, while the weights do not.
/// </summary>
public static class BatchSizePolicy
{
    /// <summary>
    /// Default budget for one batch's intermediate tensors: VGG16 at 224×224 (25.7 MB per image) gets 8, the
    /// ResNets (6.4 MB) the maximum. ONNX Runtime's arena measured about twice the estimate (docs/performance.md).
    /// </summary>
    public const long DefaultBudgetBytes = 256L << 20;

    /// <summary>Beyond 32 images a call, per-call overhead is already amortized on CPU; larger batches only cost memory.</summary>
    public const int MaxBatchSize = 32;

    /// <summary>
    /// The batch size for <paramref name="model"/> within <paramref name="budgetBytes"/>. Runs the model once on a
    /// zero image of <paramref name="inputSize"/> (needed only where the model leaves its input size open) to learn
    /// the shapes of its intermediate tensors.
    /// </summary>
    public static BatchSizeChoice Choose(PreparedModel model, long budgetBytes = DefaultBudgetBytes, (int Height, int Width)? inputSize = null)
    {
        if (budgetBytes < 1) throw new ArgumentOutOfRangeException(nameof(budgetBytes), "The memory budget must be positive.");
        ImageInputSpec input = model.Input;
        long[] shape = { 1, input.Channels, input.Height ?? inputSize?.Height ?? 224, input.Width ?? inputSize?.Width ?? 224 };
        long perImage = PeakBytesPerImage(model.Proto, input.Name, shape);
        if (!model.SupportsBatching)
            return new BatchSizeChoice(1, perImage, budgetBytes, "the model's batch size is fixed");
        long fits = budgetBytes / perImage;
        return fits >= MaxBatchSize
            ? new BatchSizeChoice(MaxBatchSize, perImage, budgetBytes, $"the maximum; {Megabytes(perImage)} of intermediate tensors per image")
            : fits < 1
                ? new BatchSizeChoice(1, perImage, budgetBytes, $"one image ({Megabytes(perImage)} of intermediate tensors) exceeds the {Megabytes(budgetBytes)} budget")
                : new BatchSizeChoice((int)fits, perImage, budgetBytes, $"{fits} × {Megabytes(perImage)} of intermediate tensors per image fit the {Megabytes(budgetBytes)} budget");
    }

    /// <summary>
    /// Peak bytes of the live float tensors when the nodes run in graph order, each output allocated before the
    /// node's inputs are released after their last use. The input (the caller's batch buffer) and the graph outputs
    /// live throughout; weights are not counted.
    /// </summary>
    internal static long PeakBytesPerImage(ModelProto model, string inputName, long[] inputShape)
    {
        var index = new GraphIndex(model.Graph);
        var data = index.DataDerivedFrom(inputName);
        var produced = data.Where(t => t != inputName && index.Producer.ContainsKey(t)).ToArray();
        var sizes = TensorShapeProbe.Run(model, inputName, inputShape, produced)
            .ToDictionary(p => p.Key, p => p.Value.Aggregate(4L, (a, d) => a * d), StringComparer.Ordinal);
        sizes[inputName] = inputShape.Aggregate(4L, (a, d) => a * d);

        var kept = model.Graph.Output.Select(o => o.Name).Append(inputName).ToHashSet(StringComparer.Ordinal);
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < model.Graph.Node.Count; i++)
            foreach (string t in model.Graph.Node[i].Input)
                lastUse[t] = i;

        long live = sizes[inputName], peak = live;
        for (int i = 0; i < model.Graph.Node.Count; i++)
        {
            NodeProto node = model.Graph.Node[i];
            foreach (string t in node.Output)
                live += sizes.GetValueOrDefault(t);
            peak = Math.Max(peak, live);
            foreach (string t in node.Input.Concat(node.Output).Distinct())
                if (!kept.Contains(t) && lastUse.GetValueOrDefault(t, -1) <= i) live -= sizes.GetValueOrDefault(t);
        }
        return peak;
    }

    private static string Megabytes(long bytes) => $"{bytes / 1e6:0.#} MB";
}

/// <summary>The batch size <see cref="BatchSizePolicy"/> chose, the estimate it rests on and why, in words.</summary>
public sealed record BatchSizeChoice(int BatchSize, long BytesPerImage, long BudgetBytes, string Reason);
