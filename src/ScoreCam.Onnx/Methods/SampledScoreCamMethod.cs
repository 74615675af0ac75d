using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Score-CAM's follow-ups by its authors that score each channel on N variations of its masked input (SS-CAM's noisy
/// copies, IS-CAM's scaled masks) and average: w_k = (1/N) Σ_i S^c(item k, i). Items run channel by channel, sample by
/// sample, in the explainer's batches; every target is scored from the same passes. A method writes one item's input
/// (<see cref="WriteSample"/>) from the channel's mask; the mask is the paper's (eq. 1: bilinear upsampling with
/// align_corners = false, min-max; constant maps are skipped, weight 0) or, for <see cref="CompatibilityVariant.TorchCam"/>,
/// torch-cam's ((A − min) / (max − min + 1e-8) at the layer's size, then upsampled), whose weights are
/// softmax_k((1/N) Σ_i Y^c(item k, i) − Y^c(x)) on raw scores.
/// </summary>
public abstract class SampledScoreCamMethod : CamMethod, IBatchedMethod
{
    protected SampledScoreCamMethod(int samples, CompatibilityVariant variant)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least one sample per channel is needed.");
        if (variant is not (CompatibilityVariant.Paper or CompatibilityVariant.TorchCam))
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "This method has the paper's form and torch-cam's (pytorch-grad-cam has none).");
        (Samples, Variant) = (samples, variant);
    }

    /// <summary>Samples N per channel: N × K forward passes.</summary>
    public int Samples { get; }

    public CompatibilityVariant Variant { get; }

    /// <summary>
    /// Writes sample <paramref name="sample"/> of channel <paramref name="channel"/> into <paramref name="input"/>
    /// (C×H×W); false leaves the item out (a constant map).
    /// </summary>
    private protected abstract bool WriteSample(Sampler sampler, int channel, int sample, Span<float> input);

    /// <summary>Per-explanation state a method's samples draw on: the masks, and its random numbers.</summary>
    private protected virtual Sampler CreateSampler(ExplanationContext context, BilinearUpsampler upsampler) => new(context, upsampler, Variant, null);

    protected override float[][] ChannelWeights(ExplanationContext context)
    {
        using var passes = new Items(this, context);
        context.Run(passes.Count, passes.Write, passes.Read);
        return passes.Weights();
    }

    BatchedPasses IBatchedMethod.Begin(ExplanationContext context) => new Items(this, context);

    /// <summary>Builds masks, holds scratch planes and the method's random generator for one explanation.</summary>
    private protected sealed class Sampler(ExplanationContext context, BilinearUpsampler upsampler, CompatibilityVariant variant, Random? random)
    {
        private readonly float[] _scratch = new float[upsampler.ScratchLength], _lowRes = new float[context.Height * context.Width];
        private readonly float[] _channelMask = new float[context.Image.Height * context.Image.Width];
        private int _maskChannel = -1;
        private bool _maskKept;

        public ExplanationContext Context { get; } = context;

        /// <summary>The seeded generator of a noisy method (null for a deterministic one).</summary>
        public Random? Random { get; } = random;

        /// <summary>Scratch of the input's size (C×H×W) and of one plane (H×W, also h×w maps fit).</summary>
        public float[] Image { get; } = new float[context.Image.Data.Length];
        public float[] Plane { get; } = new float[context.Image.Height * context.Image.Width];

        /// <summary>Channel <paramref name="k"/>'s mask (H×W), built once for its samples; empty for a constant map (paper form).</summary>
        public ReadOnlySpan<float> ChannelMask(int k)
        {
            if (k != _maskChannel) (_maskChannel, _maskKept) = (k, Mask(Context.ActivationMap(k), _channelMask));
            return _maskKept ? _channelMask : ReadOnlySpan<float>.Empty;
        }

        /// <summary>The channel's mask from its activation map; false for a constant map in the paper's form.</summary>
        public bool Mask(ReadOnlySpan<float> map, Span<float> mask)
        {
            if (variant == CompatibilityVariant.TorchCam)
            {
                Span<float> low = _lowRes.AsSpan(0, map.Length);
                float min = System.Numerics.Tensors.TensorPrimitives.Min(map);
                System.Numerics.Tensors.TensorPrimitives.Subtract(map, min, low);
                System.Numerics.Tensors.TensorPrimitives.Multiply(low, 1f / (System.Numerics.Tensors.TensorPrimitives.Max(low) + 1e-8f), low);
                upsampler.Upsample(low, mask, _scratch);
                return true;
            }
            upsampler.Upsample(map, mask, _scratch);
            return MapKernels.TryMinMaxNormalize(mask); // eq. 1
        }
    }

    /// <summary>One input's N × K items: item i is channel i / N, sample i mod N.</summary>
    private sealed class Items : BatchedPasses
    {
        private readonly SampledScoreCamMethod _method;
        private readonly ExplanationContext _context;
        private readonly Sampler _sampler;
        private readonly ScoreMode _mode;
        private readonly float[] _sums, _targetScores;
        private readonly bool[] _kept;

        public Items(SampledScoreCamMethod method, ExplanationContext context)
        {
            (_method, _context) = (method, context);
            ImageTensor image = context.Image;
            _sampler = method.CreateSampler(context, new BilinearUpsampler(context.Height, context.Width, image.Height, image.Width));
            _mode = method.Variant == CompatibilityVariant.Paper ? ScoreMode.Probability : ScoreMode.RawScore;
            _sums = new float[context.Targets.Count * context.Channels];
            _targetScores = new float[context.Targets.Count];
            _kept = new bool[context.Channels];
        }

        public override int Count => _context.Channels * _method.Samples;

        public override bool Write(int item, Span<float> input)
        {
            int k = item / _method.Samples;
            bool kept = _method.WriteSample(_sampler, k, item % _method.Samples, input);
            _kept[k] |= kept;
            return kept;
        }

        public override void Read(int item, ReadOnlySpan<float> row)
        {
            _context.Scorer.Score(row, _mode, _targetScores);
            int k = item / _method.Samples;
            for (int t = 0; t < _targetScores.Length; t++) _sums[t * _context.Channels + k] += _targetScores[t];
        }

        public float[][] Weights()
        {
            int channels = _context.Channels, targets = _context.Targets.Count;
            var unmasked = new float[targets];
            _context.Scorer.Score(_context.UnmaskedScores, _mode, unmasked);
            var weights = new float[targets][];
            for (int t = 0; t < targets; t++)
            {
                var w = weights[t] = new float[channels];
                for (int k = 0; k < channels; k++)
                    w[k] = !_kept[k] ? 0f : _sums[t * channels + k] / _method.Samples - (_mode == ScoreMode.RawScore ? unmasked[t] : 0f);
                if (_method.Variant == CompatibilityVariant.TorchCam) MapKernels.Softmax(w, w);
            }
            return weights;
        }

        public override IReadOnlyList<MethodResult> Finish() => _method.Results(_context, Weights());
    }
}
