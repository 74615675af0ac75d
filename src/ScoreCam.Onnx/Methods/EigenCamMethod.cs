namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Eigen-CAM (Muhammad and Yeasin 2020, eq. 4-5): the activations projected on their first principal component,
/// L = ReLU(O V_1) with O the h·w × K matrix of A; no gradients and no class: every target gets the same map, and
/// the reported channel weights are V_1 (sign fixed as <see cref="EigenProjection"/> says).
/// </summary>
public sealed class EigenCamMethod : CamMethod
{
    /// <param name="variant">
    /// <see cref="CompatibilityVariant.Paper"/>: O as it is. <see cref="CompatibilityVariant.PytorchGradCam"/>: O centered
    /// on each channel's mean before the decomposition, as its get_2d_projection does. torch-cam has no Eigen-CAM.
    /// </param>
    public EigenCamMethod(CompatibilityVariant variant = CompatibilityVariant.Paper)
    {
        if (variant is not (CompatibilityVariant.Paper or CompatibilityVariant.PytorchGradCam))
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "Eigen-CAM has the paper's form and pytorch-grad-cam's (torch-cam has none).");
        Variant = variant;
    }

    public CompatibilityVariant Variant { get; }

    public override string Name => "eigencam";

    public static IReadOnlyList<MethodOption> Declared { get; } = [CommonOptions.Variant];

    public static EigenCamMethod From(MethodSettings s) =>
        new(Variants.Only("Eigen-CAM", s.Get(CommonOptions.Variant), CompatibilityVariant.Paper, CompatibilityVariant.PytorchGradCam));

    protected override IReadOnlyDictionary<string, string> DeclaredSettings => MethodSettings.Describe((CommonOptions.Variant, Variant));

    protected override bool MapIsPrincipalComponent => true;

    private bool Centered => Variant == CompatibilityVariant.PytorchGradCam;

    protected override float[][] ChannelWeights(ExplanationContext context)
    {
        float[] direction = EigenProjection.Direction(context.Activations, context.Channels, context.Height * context.Width, Centered);
        return Enumerable.Repeat(direction, context.Targets.Count).ToArray();
    }

    protected override void CamImage(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> map) =>
        EigenProjection.Project(context.Activations, weights, Centered, map);
}
