using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Chooses how many inputs go into one ONNX Runtime call for a model: as many as fit a memory budget for the
/// intermediate tensors of one batch, at most <see cref="MaxBatchSize"/>. A model's working memory per image
/// (<see cref="PreparedModel.IntermediateBytesPerImage"/>, learned at preparation from the real shapes) grows
/// linearly with the batch; the weights do not.
/// </summary>
internal static class BatchSizePolicy
{
    /// <summary>
    /// Default budget for one batch's intermediate tensors, 224 MiB: torchvision VGG16 at 224×224 (25.1 MiB per image)
    /// gets 8, where its peak working set stays under 4 GB; ResNet-50 (9.8 MiB) 22 and ResNet-18 (6.7 MiB) 32
    /// (docs/performance.md).
    /// </summary>
    public const long DefaultBudgetBytes = 224L << 20;

    /// <summary>Beyond 32 inputs a call the per-call overhead is amortized on CPU (docs/performance.md); larger batches only cost memory.</summary>
    public const int MaxBatchSize = 32;

    /// <summary>
    /// The batch size for <paramref name="model"/>: the size its export fixes, else <paramref name="requested"/> when
    /// given, else as many inputs as fit <paramref name="budgetBytes"/>. The one place that decides it; sessions and
    /// runners only carry it out.
    /// </summary>
    public static BatchSizeChoice Choose(PreparedModel model, long budgetBytes = DefaultBudgetBytes, int? requested = null)
    {
        if (budgetBytes < 1) throw new ArgumentOutOfRangeException(nameof(budgetBytes), "The memory budget must be positive.");
        if (requested is < 1) throw new ArgumentOutOfRangeException(nameof(requested), "The batch size must be at least 1.");
        long perImage = model.IntermediateBytesPerImage;
        if (model.FixedBatchSize is { } fixedSize)
        {
            // Runs of another size are impossible: a request is answered in the reason, not refused.
            string reason = $"the model's export fixes its batch size at {fixedSize}" +
                            (fixedSize > 1 ? "; partial batches are padded" : "") +
                            (requested is { } r && r != fixedSize ? $"; the requested {r} cannot be used" : "");
            return new BatchSizeChoice(fixedSize, perImage, budgetBytes, reason);
        }
        if (requested is { } given) return new BatchSizeChoice(given, perImage, budgetBytes, "given");
        long fits = budgetBytes / perImage;
        string each = $"{Megabytes(perImage)} of intermediate tensors per image";
        if (fits < 1)
            return new BatchSizeChoice(1, perImage, budgetBytes, $"one image ({each}) exceeds the {Megabytes(budgetBytes)} budget");
        return fits >= MaxBatchSize
            ? new BatchSizeChoice(MaxBatchSize, perImage, budgetBytes, $"the maximum; {each}, {Megabytes(budgetBytes)} budget")
            : new BatchSizeChoice((int)fits, perImage, budgetBytes, $"{fits} × {each} fit the {Megabytes(budgetBytes)} budget");
    }

    /// <summary>
    /// Peak bytes per image of the live float tensors when the nodes run in graph order, each node's outputs
    /// allocated before its inputs are released after their last use. The input (the caller's batch buffer) and the
    /// graph outputs live throughout; weights are not counted; tensors without a shape in <paramref name="shapes"/>
    /// (shape arithmetic) count as empty.
    /// </summary>
    internal static long PeakBytesPerImage(GraphProto graph, string inputName, IReadOnlyDictionary<string, long[]> shapes)
    {
        long Bytes(string t) => shapes.TryGetValue(t, out long[]? s) ? s.Aggregate((long)sizeof(float), (a, d) => a * d) : 0;
        var kept = graph.Output.Select(o => o.Name).Append(inputName).ToHashSet(StringComparer.Ordinal);
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (string t in graph.Node[i].Input)
                lastUse[t] = i;

        long live = Bytes(inputName), peak = live;
        for (int i = 0; i < graph.Node.Count; i++)
        {
            NodeProto node = graph.Node[i];
            foreach (string t in node.Output.Distinct())
                live += Bytes(t);
            peak = Math.Max(peak, live);
            foreach (string t in node.Input.Concat(node.Output).Distinct())
                if (!kept.Contains(t) && lastUse.GetValueOrDefault(t, -1) <= i) live -= Bytes(t);
        }
        return peak / Math.Max(1, shapes[inputName][0]);
    }

    private static string Megabytes(long bytes) => $"{bytes / 1048576.0:0.#} MiB";
}

/// <summary>The batch size chosen (or given), the estimate it rests on, and why, in words.</summary>
public sealed record BatchSizeChoice(int BatchSize, long BytesPerImage, long BudgetBytes, string Reason);
