using System.Buffers;
using ScoreCam.Onnx.Kernels;

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
        if (Options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "Batch size must be at least 1.");
    }

    public ScoreCamOptions Options { get; }

    public override string Name => "scorecam";

    public override float[][] ChannelWeights(CamContext context)
    {
        ImageTensor image = context.Image;
        int plane = image.Height * image.Width, imageLength = image.Data.Length, rowLength = context.Session.Model.OutputSize;
        int k = context.Channels, targets = context.Targets.Count;
        ScoreCamVariant variant = Options.Variant;
        ScoreMode mode = variant == ScoreCamVariant.Paper ? Options.Scores : ScoreMode.RawScore;
        var upsampler = new BilinearUpsampler(context.Height, context.Width, image.Height, image.Width,
            alignCorners: variant == ScoreCamVariant.PytorchGradCam);
        int batchSize = Math.Min(Options.BatchSize, k);

        // Scores per target and channel; NaN marks a skipped (constant) channel.
        var raw = new float[targets * k];
        Array.Fill(raw, float.NaN);
        var pool = ArrayPool<float>.Shared;
        float[] batch = pool.Rent(batchSize * imageLength), mask = pool.Rent(plane), scratch = pool.Rent(upsampler.ScratchLength);
        float[] lowRes = pool.Rent(context.Height * context.Width), scores = pool.Rent(batchSize * rowLength);
        var batchChannels = new int[batchSize];
        var targetScores = new float[targets];
        try
        {
            int filled = 0, done = 0;
            void Flush()
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                context.Session.Scores(batch.AsMemory(0, filled * imageLength), filled, image, scores);
                for (int i = 0; i < filled; i++)
                {
                    context.Scorer.Score(scores.AsSpan(i * rowLength, rowLength), mode, targetScores);
                    for (int t = 0; t < targets; t++) raw[t * k + batchChannels[i]] = targetScores[t];
                }
                context.ForwardPasses += filled;
                done += filled;
                filled = 0;
                context.Progress?.Report(new ExplanationProgress(done, k));
            }

            for (int channel = 0; channel < k; channel++)
            {
                Span<float> m = mask.AsSpan(0, plane);
                if (!BuildMask(context.ActivationMap(channel), upsampler, m, scratch, lowRes))
                {
                    context.SkippedChannels++;
                    continue;
                }
                MapKernels.ApplyMask(image.Data, m, batch.AsSpan(filled * imageLength, imageLength)); // eq. 2
                batchChannels[filled++] = channel;
                if (filled == batchSize) Flush();
            }
            if (filled > 0) Flush();
        }
        finally
        {
            foreach (var buffer in new[] { batch, mask, scratch, lowRes, scores }) pool.Return(buffer);
        }
        return Weights(context, raw, mode);
    }

    /// <summary>Builds mask m_k into <paramref name="mask"/>; false when the channel is skipped.</summary>
    private bool BuildMask(ReadOnlySpan<float> map, BilinearUpsampler upsampler, Span<float> mask, Span<float> scratch, Span<float> lowRes)
    {
        switch (Options.Variant)
        {
            case ScoreCamVariant.TorchCam:
                map.CopyTo(lowRes);
                if (!MapKernels.TryMinMaxNormalize(lowRes[..map.Length])) lowRes[..map.Length].Clear();
                upsampler.Upsample(lowRes, mask, scratch);
                return true;
            case ScoreCamVariant.PytorchGradCam:
                upsampler.Upsample(map, mask, scratch);
                float min = System.Numerics.Tensors.TensorPrimitives.Min(mask), max = System.Numerics.Tensors.TensorPrimitives.Max(mask);
                System.Numerics.Tensors.TensorPrimitives.Subtract(mask, min, mask);
                System.Numerics.Tensors.TensorPrimitives.Multiply(mask, 1f / (max - min + 1e-8f), mask);
                return true;
            default:
                upsampler.Upsample(map, mask, scratch);
                if (Options.Masks == MaskMode.Binarized)
                {
                    if (System.Numerics.Tensors.TensorPrimitives.Min(mask) == System.Numerics.Tensors.TensorPrimitives.Max(mask)) return false;
                    MapKernels.Binarize(mask); // section 4.2
                    return true;
                }
                return MapKernels.TryMinMaxNormalize(mask); // eq. 1; constant maps are skipped
        }
    }

    private float[][] Weights(CamContext context, float[] raw, ScoreMode mode)
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
                case ScoreCamVariant.PytorchGradCam:
                    MapKernels.Softmax(s, w);
                    break;
                case ScoreCamVariant.TorchCam:
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
