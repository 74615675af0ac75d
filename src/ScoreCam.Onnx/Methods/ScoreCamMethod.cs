using System.Buffers;
using ScoreCam.Onnx.Inference;
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
        if (Options.MaxChannels is < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxChannels must be at least 1.");
    }

    public ScoreCamOptions Options { get; }

    public override string Name => "scorecam";

    public override float[][] ChannelWeights(CamContext context)
    {
        ImageTensor image = context.Image;
        int plane = image.Height * image.Width, k = context.Channels, targets = context.Targets.Count;
        ScoreCamVariant variant = Options.Variant;
        ScoreMode mode = variant == ScoreCamVariant.Paper ? Options.Scores : ScoreMode.RawScore;
        var upsampler = new BilinearUpsampler(context.Height, context.Width, image.Height, image.Width,
            alignCorners: variant == ScoreCamVariant.PytorchGradCam);

        // Scores per target and channel; NaN marks a skipped (constant) channel.
        var raw = new float[targets * k];
        Array.Fill(raw, float.NaN);
        var targetScores = new float[targets];
        var pool = ArrayPool<float>.Shared;
        float[] mask = pool.Rent(plane), scratch = pool.Rent(upsampler.ScratchLength), lowRes = pool.Rent(context.Height * context.Width);
        // Two batches: while ONNX Runtime scores one, the next is built (Options.Pipelined).
        using var first = new BatchScorer(context.Session, image, Math.Min(Options.BatchSize, k));
        using var second = new BatchScorer(context.Session, image, first.Capacity);
        var channelsOf = new Dictionary<BatchScorer, int[]> { [first] = new int[first.Capacity], [second] = new int[first.Capacity] };
        Task? running = null;
        (BatchScorer? Scorer, int Count) inFlight = default;
        int done = 0;

        void Collect(BatchScorer scorer, int count)
        {
            int[] channels = channelsOf[scorer];
            for (int i = 0; i < count; i++)
            {
                context.Scorer.Score(scorer.Scores(i), mode, targetScores);
                for (int t = 0; t < targets; t++) raw[t * k + channels[i]] = targetScores[t];
            }
            context.ForwardPasses += count;
            done += count;
            context.Progress?.Report(new ExplanationProgress(done, k));
        }

        void Finish()
        {
            if (running is null) return;
            running.GetAwaiter().GetResult();
            running = null;
            Collect(inFlight.Scorer!, inFlight.Count);
        }

        void Submit(BatchScorer scorer, int count)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (!Options.Pipelined)
            {
                context.TimeInference(() => scorer.Run(count));
                Collect(scorer, count);
                return;
            }
            Finish();
            inFlight = (scorer, count);
            running = Task.Run(() => context.TimeInference(() => scorer.Run(count)));
        }

        try
        {
            BatchScorer current = first;
            int filled = 0;
            bool[] selected = SelectedChannels(context);
            for (int channel = 0; channel < k; channel++)
            {
                if (!selected[channel]) continue;
                Span<float> m = mask.AsSpan(0, plane);
                if (!BuildMask(context.ActivationMap(channel), upsampler, m, scratch, lowRes))
                {
                    context.SkippedChannels++;
                    continue;
                }
                MapKernels.ApplyMask(image.Data, m, current.Input(filled)); // eq. 2
                channelsOf[current][filled++] = channel;
                if (filled < current.Capacity) continue;
                Submit(current, filled);
                current = current == first ? second : first;
                filled = 0;
            }
            if (filled > 0) Submit(current, filled);
            Finish();
        }
        finally
        {
            // Never hand buffers back while ONNX Runtime may still be reading them.
            try { running?.Wait(); } catch (AggregateException) { }
            foreach (var buffer in new[] { mask, scratch, lowRes }) pool.Return(buffer);
        }
        return Weights(context, raw, mode);
    }

    /// <summary>All channels, or the top <see cref="ScoreCamOptions.MaxChannels"/> by the ranking score.</summary>
    private bool[] SelectedChannels(CamContext context)
    {
        int k = context.Channels;
        var selected = new bool[k];
        if (Options.MaxChannels is not { } keep || keep >= k)
        {
            Array.Fill(selected, true);
            return selected;
        }
        var rank = new float[k];
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<float> a = context.ActivationMap(c);
            float mean = System.Numerics.Tensors.TensorPrimitives.Average(a);
            rank[c] = Options.ChannelRanking == ChannelRanking.Mean ? mean
                : System.Numerics.Tensors.TensorPrimitives.SumOfSquares(a) / a.Length - mean * mean;
        }
        foreach (int c in Enumerable.Range(0, k).OrderByDescending(c => rank[c]).ThenBy(c => c).Take(keep)) selected[c] = true;
        return selected;
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
