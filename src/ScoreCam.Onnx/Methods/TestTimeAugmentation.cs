using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// pytorch-grad-cam's aug_smooth for a CAM method: the method explains six copies of the input (the preprocessed
/// tensor flipped left-right or not, times 0.9, 1 or 1.1: its default ttach transforms), each for the targets
/// resolved on the input itself; each copy's map is upsampled to the input's size, min-max normalized as the
/// display heatmap is, flipped back where the copy was flipped, and the map is the mean of the six. The copies'
/// channel weights and diagnostics are not kept (the mean map is no single weighted sum).
/// </summary>
public sealed class TestTimeAugmentation : IExplanationMethod
{
    /// <summary>The copies: flipped left-right or not, times each factor (ttach's HorizontalFlip × Multiply([0.9, 1, 1.1])).</summary>
    public static IReadOnlyList<(bool Flip, float Factor)> Augmentations { get; } =
        new[] { false, true }.SelectMany(flip => new[] { 0.9f, 1f, 1.1f }.Select(factor => (flip, factor))).ToArray();

    public TestTimeAugmentation(IExplanationMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method is TestTimeAugmentation) throw new ArgumentException("The method is augmented already.", nameof(method));
        Method = method;
    }

    /// <summary>The method that explains each copy.</summary>
    public IExplanationMethod Method { get; }

    public string Name => Method.Name;

    public IReadOnlyDictionary<string, string> Settings =>
        Method.Settings.Concat(MethodSettings.Describe((CommonOptions.AugSmooth, true))).ToDictionary();

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        ImageTensor image = context.Image;
        int width = image.Width, height = image.Height, count = Augmentations.Count;
        var sums = new float[context.Targets.Count][];
        for (int t = 0; t < sums.Length; t++) sums[t] = new float[width * height];
        for (int a = 0; a < count; a++)
        {
            var (flip, factor) = Augmentations[a];
            IProgress<ExplanationProgress>? progress = context.Progress is { } p ? new CopyProgress(p, a, count) : null;
            ExplanationContext copy = flip || factor != 1 ? context.Transformed(Transform(image, flip, factor), progress) : context.WithProgress(progress);
            IReadOnlyList<MethodResult> results = Method.Explain(copy);
            context.Record(copy);
            if (results.Count != sums.Length)
                throw new InvalidOperationException($"Method '{Method.Name}' returned {results.Count} results for {sums.Length} targets.");
            for (int t = 0; t < sums.Length; t++)
            {
                float[] heat = DisplayHeatmap.From(results[t].Map, width, height).Values;
                if (flip) FlipRows(heat, width);
                System.Numerics.Tensors.TensorPrimitives.Add(sums[t], heat, sums[t]);
            }
        }
        return sums.Select(sum =>
        {
            System.Numerics.Tensors.TensorPrimitives.Divide(sum, count, sum);
            return new MethodResult(new SaliencyMap(width, height, sum));
        }).ToArray();
    }

    /// <summary>The preprocessed input flipped left-right (each row of each channel reversed) when <paramref name="flip"/>, times <paramref name="factor"/>.</summary>
    internal static ImageTensor Transform(ImageTensor image, bool flip, float factor)
    {
        var data = new float[image.Data.Length];
        System.Numerics.Tensors.TensorPrimitives.Multiply(image.Data, factor, data);
        if (flip) FlipRows(data, image.Width);
        return new ImageTensor(data, image.Channels, image.Height, image.Width, image.SourceRegion);
    }

    private static void FlipRows(float[] planes, int width)
    {
        for (int row = 0; row < planes.Length; row += width) planes.AsSpan(row, width).Reverse();
    }

    /// <summary>Copy <c>index</c>'s progress as a share of all copies' (every copy runs the same number of passes).</summary>
    private sealed class CopyProgress(IProgress<ExplanationProgress> progress, int index, int count) : IProgress<ExplanationProgress>
    {
        public void Report(ExplanationProgress value) =>
            progress.Report(new ExplanationProgress(index * value.Total + value.Done, count * value.Total));
    }
}
