using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// SS-CAM (Wang, Naidu et al. 2020, "SS-CAM: Smoothed Score-CAM", Algorithm 1): Score-CAM's channel weights averaged
/// over N noisy copies, w_k = (1/N) Σ_i softmax(F(X_i,k))_c, with Gaussian noise δ ~ N(0, σ²) on the mask,
/// X_i,k = x ∘ (m_k + δ_i) (<see cref="SsCamNoise.Masks"/>, SS-CAM(1)), or on the input, X_i,k = (x + δ_i) ∘ m_k
/// (<see cref="SsCamNoise.Input"/>, SS-CAM(2)); m_k is eq. 1's mask, σ is in the mask's (or the input tensor's) units.
/// The noise comes from one <see cref="System.Random"/> seeded with <see cref="Seed"/> (Box–Muller), drawn item by item
/// (channel by channel, N samples each, constant channels drawing none) and element by element (mask: H×W; input: C×H×W).
/// <see cref="CompatibilityVariant.TorchCam"/> is torch-cam's SSCAM: the noise (h×w) is added to the activation map before
/// its masks are made, and the weights are its softmax of the mean raw-score increase (see <see cref="SampledScoreCamMethod"/>).
/// </summary>
public sealed class SsCamMethod : SampledScoreCamMethod
{
    public SsCamMethod(SsCamNoise noise = SsCamNoise.Masks, int samples = 10, double sigma = 2.0, int seed = 0,
        CompatibilityVariant variant = CompatibilityVariant.Paper) : base(samples, variant)
    {
        if (!Enum.IsDefined(noise)) throw new ArgumentOutOfRangeException(nameof(noise), noise, "Unknown noise placement.");
        if (!(sigma >= 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The noise's standard deviation must be 0 or positive.");
        if (variant == CompatibilityVariant.TorchCam && noise == SsCamNoise.Input)
            throw new ArgumentException("torch-cam's SS-CAM adds its noise to the activations (the masks' variant), not to the input.", nameof(noise));
        (Noise, Sigma, Seed) = (noise, sigma, seed);
    }

    public SsCamNoise Noise { get; }
    public double Sigma { get; }
    public int Seed { get; }

    public override string Name => "sscam";

    public static readonly MethodOption<int> SamplesOption = MethodOption.Integer("sscam-samples", "SS-CAM: noisy copies N per channel.", 10, 1, CommonOptions.MaxPasses, countsPasses: true);
    public static readonly MethodOption<double> SigmaOption = MethodOption.Number("sscam-sigma", "SS-CAM: the noise's standard deviation σ (mask or input units).", 2.0, 0, 1e6);
    public static readonly MethodOption<SsCamNoise> NoiseOption = MethodOption.Choice("sscam-noise", "SS-CAM: noise on the masks (SS-CAM(1)) or on the input (SS-CAM(2)).",
        SsCamNoise.Masks, ("masks", SsCamNoise.Masks), ("input", SsCamNoise.Input));

    public static IReadOnlyList<MethodOption> Declared { get; } = [NoiseOption, SamplesOption, SigmaOption, CommonOptions.Seed, CommonOptions.Variant];

    public static SsCamMethod From(MethodSettings s) => new(s.Get(NoiseOption), s.Get(SamplesOption), s.Get(SigmaOption), s.Get(CommonOptions.Seed),
        Variants.Only("SS-CAM", s.Get(CommonOptions.Variant), CompatibilityVariant.Paper, CompatibilityVariant.TorchCam));

    protected override IReadOnlyDictionary<string, string> DeclaredSettings => MethodSettings.Describe((NoiseOption, Noise), (SamplesOption, Samples), (SigmaOption, Sigma),
        (CommonOptions.Seed, Seed), (CommonOptions.Variant, Variant));

    private protected override Sampler CreateSampler(ExplanationContext context, BilinearUpsampler upsampler) => new(context, upsampler, Variant, new Random(Seed));

    private protected override bool WriteSample(Sampler sampler, int channel, int sample, Span<float> input)
    {
        Random random = sampler.Random!;
        float[] x = sampler.Context.Image.Data, plane = sampler.Plane;
        int size = plane.Length;
        if (Variant == CompatibilityVariant.TorchCam)
        {
            ReadOnlySpan<float> map = sampler.Context.ActivationMap(channel);
            Span<float> noisy = sampler.Image.AsSpan(0, map.Length);
            for (int i = 0; i < map.Length; i++) noisy[i] = (float)(map[i] + Sigma * StandardNormal.Sample(random));
            sampler.Mask(noisy, plane);
            MapKernels.ApplyMask(x, plane, input);
            return true;
        }
        ReadOnlySpan<float> mask = sampler.ChannelMask(channel);
        if (mask.IsEmpty) return false;
        if (Noise == SsCamNoise.Masks)
        {
            for (int i = 0; i < size; i++) plane[i] = (float)(mask[i] + Sigma * StandardNormal.Sample(random));
            MapKernels.ApplyMask(x, plane, input); // X ∘ (M_k + δ)
        }
        else
        {
            for (int i = 0; i < x.Length; i++) input[i] = (float)((x[i] + Sigma * StandardNormal.Sample(random)) * mask[i % size]); // (X + δ) ∘ M_k
        }
        return true;
    }
}

/// <summary>Where SS-CAM adds its noise.</summary>
public enum SsCamNoise
{
    /// <summary>On each normalized mask (SS-CAM(1)).</summary>
    Masks,
    /// <summary>On the input before it is masked (SS-CAM(2)).</summary>
    Input,
}
