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
public sealed class ScoreCamMethod : CamMethod, IBatchedMethod
{
    public ScoreCamMethod(ScoreCamOptions? options = null)
    {
        Options = options ?? new ScoreCamOptions();
        if (Options.MaxChannels is < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxChannels must be at least 1.");
    }

    public ScoreCamOptions Options { get; }

    public override string Name => "scorecam";

    public static readonly MethodOption<int?> Channels = MethodOption.OptionalInteger("channels",
        "Score-CAM: keep only the top K channels (ranked by channel-ranking); a speed-up, not the paper's algorithm.", "all", 1, CommonOptions.MaxPasses);
    public static readonly MethodOption<ChannelRanking> Ranking = MethodOption.Choice("channel-ranking", "Score-CAM with channels: how channels are ranked.",
        ChannelRanking.Variance, ("variance", ChannelRanking.Variance), ("mean", ChannelRanking.Mean));
    public static readonly MethodOption<MaskMode> Masks = MethodOption.Choice("masks", "Score-CAM masks: normalized (eq. 1) or binarized (section 4.2).",
        MaskMode.Normalized, ("normalized", MaskMode.Normalized), ("binarized", MaskMode.Binarized));
    public static readonly MethodOption<ScoreMode> Scores = MethodOption.Choice("scores", "Score-CAM weights: probability (softmax, eq. 3) or raw (section 4.3).",
        ScoreMode.Probability, ("probability", ScoreMode.Probability), ("raw", ScoreMode.RawScore));

    public static IReadOnlyList<MethodOption> Declared { get; } = [Channels, Ranking, Masks, Scores, CommonOptions.Variant];

    public static ScoreCamMethod From(MethodSettings s) => new(new ScoreCamOptions
    {
        MaxChannels = s.Get(Channels), ChannelRanking = s.Get(Ranking), Masks = s.Get(Masks), Scores = s.Get(Scores), Variant = s.Get(CommonOptions.Variant),
    });

    protected override IReadOnlyDictionary<string, string> DeclaredSettings => MethodSettings.Describe((Channels, Options.MaxChannels), (Ranking, Options.ChannelRanking),
        (Masks, Options.Masks), (Scores, Options.Scores), (CommonOptions.Variant, Options.Variant));

    protected override float[][] ChannelWeights(ExplanationContext context)
    {
        using var passes = new MaskedChannels(this, context);
        context.Run(passes.Count, passes.Write, passes.Read);
        return passes.Weights();
    }

    BatchedPasses IBatchedMethod.Begin(ExplanationContext context) => new MaskedChannels(this, context);

    /// <summary>One input's masked passes: item i masks the input with selected channel i's map.</summary>
    private sealed class MaskedChannels : BatchedPasses
    {
        private readonly ScoreCamMethod _method;
        private readonly ExplanationContext _context;
        private readonly ScoreMode _mode;
        private readonly BilinearUpsampler _upsampler;
        private readonly int[] _channels;
        // Scores per target and channel; NaN marks a skipped (constant) channel.
        private readonly float[] _raw, _targetScores;
        private readonly int _plane;
        private float[]? _mask, _scratch, _lowRes;

        public MaskedChannels(ScoreCamMethod method, ExplanationContext context)
        {
            (_method, _context) = (method, context);
            ImageTensor image = context.Image;
            _plane = image.Height * image.Width;
            CompatibilityVariant variant = method.Options.Variant;
            _mode = variant == CompatibilityVariant.Paper ? method.Options.Scores : ScoreMode.RawScore;
            _upsampler = new BilinearUpsampler(context.Height, context.Width, image.Height, image.Width,
                alignCorners: variant == CompatibilityVariant.PytorchGradCam);
            _channels = method.SelectedChannels(context);
            _raw = new float[context.Targets.Count * context.Channels];
            Array.Fill(_raw, float.NaN);
            _targetScores = new float[context.Targets.Count];
        }

        public override int Count => _channels.Length;

        public override bool Write(int item, Span<float> input)
        {
            // Buffers are rented on first use: in a run over many inputs only the ones being written hold them.
            var pool = ArrayPool<float>.Shared;
            _mask ??= pool.Rent(_plane);
            _scratch ??= pool.Rent(_upsampler.ScratchLength);
            _lowRes ??= pool.Rent(_context.Height * _context.Width);
            Span<float> m = _mask.AsSpan(0, _plane);
            bool kept = _method.BuildMask(_context.ActivationMap(_channels[item]), _upsampler, m, _scratch, _lowRes);
            if (kept) MapKernels.ApplyMask(_context.Image.Data, m, input); // eq. 2
            if (item == _channels.Length - 1) ReturnBuffers();
            return kept;
        }

        public override void Read(int item, ReadOnlySpan<float> row)
        {
            _context.Scorer.Score(row, _mode, _targetScores);
            int k = _context.Channels;
            for (int t = 0; t < _targetScores.Length; t++) _raw[t * k + _channels[item]] = _targetScores[t];
        }

        public float[][] Weights() => _method.Weights(_context, _raw, _mode);

        public override IReadOnlyList<MethodResult> Finish() => _method.Results(_context, Weights());

        protected override void Dispose(bool disposing) => ReturnBuffers();

        private void ReturnBuffers()
        {
            Return(ref _mask);
            Return(ref _scratch);
            Return(ref _lowRes);
        }

        private static void Return(ref float[]? buffer)
        {
            if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
            buffer = null;
        }
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
