using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>Where a segmenter's output keeps class c of pixel p: [C, H, W] (one map per class) or channels-last [H, W, C].</summary>
internal sealed class SegmentationLayout
{
    private SegmentationLayout(int classes, int height, int width, bool channelsLast) =>
        (Classes, Height, Width, ChannelsLast) = (classes, height, width, channelsLast);

    public int Classes { get; }
    public int Height { get; }
    public int Width { get; }
    public bool ChannelsLast { get; }
    public int Pixels => Height * Width;

    /// <summary>The layout of the scored output: as <paramref name="channelsLast"/> says, or the axis that has the labels' count, or the smaller end axis.</summary>
    public static SegmentationLayout Of(TargetModel model, bool? channelsLast)
    {
        IReadOnlyList<int> s = model.Model.OutputShape;
        if (s.Count != 3)
            throw new ScoreCamException(
                $"A segmentation target reads one map per class, an output of shape [C, H, W] or [H, W, C] after the batch dimension; output " +
                $"'{model.Model.OutputName}' has shape [{string.Join(", ", s)}]. Prepare the model with its segmentation output.");
        int? labels = model.Labels?.Count;
        bool last = channelsLast ?? (labels == s[2] && labels != s[0] || labels != s[0] && labels != s[2] && s[2] < s[0]);
        return last ? new SegmentationLayout(s[2], s[0], s[1], true) : new SegmentationLayout(s[0], s[1], s[2], false);
    }

    public int Index(int c, int p) => ChannelsLast ? p * Classes + c : c * Pixels + p;

    /// <summary>Pixel p's softmax over the classes, at class c.</summary>
    public float Probability(ReadOnlySpan<float> v, int c, int p)
    {
        float max = float.NegativeInfinity;
        for (int k = 0; k < Classes; k++) max = Math.Max(max, v[Index(k, p)]);
        double sum = 0;
        for (int k = 0; k < Classes; k++) sum += Math.Exp(v[Index(k, p)] - max);
        return (float)(Math.Exp(v[Index(c, p)] - max) / sum);
    }

    /// <summary>The class with the largest value at pixel p (the first of equals).</summary>
    public int ArgMax(ReadOnlySpan<float> v, int p)
    {
        int best = 0;
        for (int k = 1; k < Classes; k++)
            if (v[Index(k, p)] > v[Index(best, p)]) best = k;
        return best;
    }

    /// <summary>The class assigned the most pixels, class 0 (background) excepted; class 0 when no other class has any.</summary>
    public int MostAssigned(ReadOnlySpan<float> v)
    {
        var counts = new int[Classes];
        for (int p = 0; p < Pixels; p++) counts[ArgMax(v, p)]++;
        int best = 0;
        for (int k = 1; k < Classes; k++)
            if (counts[k] > 0 && (best == 0 || counts[k] > counts[best])) best = k;
        return best;
    }
}
