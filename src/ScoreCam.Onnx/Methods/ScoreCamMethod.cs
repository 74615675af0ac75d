using System.Buffers;
using System.Numerics.Tensors;
using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Score-CAM (Wang et al., section 4): each activation map, upsampled and normalized, masks the input; the model's
/// score for the target on that masked image is the map's weight. Forward-only: no gradients are needed.
/// All targets are scored from the same masked passes.
/// </summary>
public sealed class ScoreCamMethod : CamMethod
{
    public ScoreCamMethod(ScoreCamOptions? options = null)
    {
        Options = options ?? new ScoreCamOptions();
        if (Options.MaxChannels is < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxChannels must be at least 1.");
    }

    public ScoreCamOptions Options { get; }

    public override string Name => "scorecam";

    protected override float[][] ChannelWeights(ExplanationContext context)
    {
        ImageTensor image = context.Image;
        int plane = image.Height * image.Width, k = context.Channels, targets = context.Targets.Count;
        CompatibilityVariant variant = Options.Variant;
        ScoreMode mode = variant == CompatibilityVariant.Paper ? Options.Scores : ScoreMode.RawScore;
        var upsampler = new BilinearUpsampler(context.Height, context.Width, image.Height, image.Width,
            alignCorners: variant == CompatibilityVariant.PytorchGradCam);
        int[] channels = SelectedChannels(context);

        // Scores per target and channel; NaN marks a skipped (constant) channel.
        var raw = new float[targets * k];
        Array.Fill(raw, float.NaN);
        var targetScores = new float[targets];
        var pool = ArrayPool<float>.Shared;
        float[] mask = pool.Rent(plane), scratch = pool.Rent(upsampler.ScratchLength), lowRes = pool.Rent(context.Height * context.Width);
        try
        {
            context.Run(channels.Length,
                (item, input) =>
                {
                    Span<float> m = mask.AsSpan(0, plane);
                    if (!BuildMask(context.ActivationMap(channels[item]), upsampler, m, scratch, lowRes)) return false;
                    MapKernels.ApplyMask(image.Data, m, input); // eq. 2
                    return true;
                },
                (item, row) =>
                {
                    context.Scorer.Score(row, mode, targetScores);
                    for (int t = 0; t < targets; t++) raw[t * k + channels[item]] = targetScores[t];
                });
        }
        finally
        {
            foreach (var buffer in new[] { mask, scratch, lowRes }) pool.Return(buffer);
        }
        return Weights(context, raw, mode);
    }

    /// <summary>All channels, or the top <see cref="ScoreCamOptions.MaxChannels"/> by the ranking score, in channel order.</summary>
    private int[] SelectedChannels(ExplanationContext context)
    {
        int k = context.Channels;
        if (Options.MaxChannels is not { } keep || keep >= k) return Enumerable.Range(0, k).ToArray();
        var rank = new float[k];
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<float> a = context.ActivationMap(c);
            float mean = TensorPrimitives.Average(a);
            rank[c] = Options.ChannelRanking == ChannelRanking.Mean ? mean : TensorPrimitives.SumOfSquares(a) / a.Length - mean * mean;
        }
        return Enumerable.Range(0, k).OrderByDescending(c => rank[c]).ThenBy(c => c).Take(keep).Order().ToArray();
    }

    /// <summary>Builds mask m_k into <paramref name="mask"/>; false when the channel is skipped.</summary>
    private bool BuildMask(ReadOnlySpan<float> map, BilinearUpsampler upsampler, Span<float> mask, Span<float> scratch, Span<float> lowRes)
    {
        switch (Options.Variant)
        {
            case CompatibilityVariant.TorchCam:
                map.CopyTo(lowRes);
                if (!MapKernels.TryMinMaxNormalize(lowRes[..map.Length])) lowRes[..map.Length].Clear();
                upsampler.Upsample(lowRes, mask, scratch);
                return true;
            case CompatibilityVariant.PytorchGradCam:
                upsampler.Upsample(map, mask, scratch);
                float min = TensorPrimitives.Min(mask), max = TensorPrimitives.Max(mask);
                TensorPrimitives.Subtract(mask, min, mask);
                TensorPrimitives.Multiply(mask, 1f / (max - min + 1e-8f), mask);
                return true;
            default:
                upsampler.Upsample(map, mask, scratch);
                if (Options.Masks == MaskMode.Binarized)
                {
                    if (TensorPrimitives.Min(mask) == TensorPrimitives.Max(mask)) return false;
                    MapKernels.Binarize(mask); // section 4.2
                    return true;
                }
                return MapKernels.TryMinMaxNormalize(mask); // eq. 1; constant maps are skipped
        }
    }

    private float[][] Weights(ExplanationContext context, float[] raw, ScoreMode mode)
    {
        int k = context.Channels, targets = context.Targets.Count;
        var weights = new float[targets][];
        var unmasked = new float[targets];
        context.Scorer.Score(context.UnmaskedScores, mode, unmasked);
        for (int t = 0; t < targets; t++)
        {
            ReadOnlySpan<float> s = raw.AsSpan(t * k, k);
            var w = weights[t] = new float[k];
            switch (Options.Variant)
            {
                case CompatibilityVariant.PytorchGradCam:
                    MapKernels.Softmax(s, w);
                    break;
                case CompatibilityVariant.TorchCam:
                    for (int c = 0; c < k; c++) w[c] = s[c] - unmasked[t];
                    MapKernels.Softmax(w, w);
                    break;
                default:
                    for (int c = 0; c < k; c++) w[c] = float.IsNaN(s[c]) ? 0f : s[c]; // eq. 4: w_k^c = S_k^c
                    break;
            }
        }
        return weights;
    }
}
