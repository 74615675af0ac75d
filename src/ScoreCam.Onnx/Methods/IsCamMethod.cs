namespace ScoreCam.Onnx.Methods;

/// <summary>
/// IS-CAM (Naidu et al. 2020, "IS-CAM: Integrated Score-CAM", eq. 5): each channel's weight integrated over its mask
/// scaled i/N, w_k = (1/N) Σ_{i=1..N} softmax(F(x ∘ (i/N) m_k))_c, m_k eq. 1's mask. <see cref="CompatibilityVariant.TorchCam"/>
/// is torch-cam's ISCAM: its scale grows as the running sum Σ_{j=1..i} j/N, and its weights are the softmax of the mean
/// raw-score increase (see <see cref="SampledScoreCamMethod"/>).
/// </summary>
public sealed class IsCamMethod(int samples = 10, CompatibilityVariant variant = CompatibilityVariant.Paper) : SampledScoreCamMethod(samples, variant)
{
    public override string Name => "iscam";

    public static readonly MethodOption<int> SamplesOption = MethodOption.Integer("iscam-samples", "IS-CAM: scaled masks N per channel.", 10, 1, CommonOptions.MaxPasses, countsPasses: true);

    public static IReadOnlyList<MethodOption> Declared { get; } = [SamplesOption, CommonOptions.Variant];

    public static IsCamMethod From(MethodSettings s) =>
        new(s.Get(SamplesOption), Variants.Only("IS-CAM", s.Get(CommonOptions.Variant), CompatibilityVariant.Paper, CompatibilityVariant.TorchCam));

    protected override IReadOnlyDictionary<string, string> DeclaredSettings => MethodSettings.Describe((SamplesOption, Samples), (CommonOptions.Variant, Variant));

    private protected override bool WriteSample(Sampler sampler, int channel, int sample, Span<float> input)
    {
        ReadOnlySpan<float> mask = sampler.ChannelMask(channel);
        if (mask.IsEmpty) return false;
        int i = sample + 1;
        float scale = Variant == CompatibilityVariant.TorchCam ? i * (i + 1) / (2f * Samples) : (float)i / Samples;
        float[] x = sampler.Context.Image.Data;
        for (int e = 0; e < x.Length; e++) input[e] = x[e] * scale * mask[e % mask.Length];
        return true;
    }
}
