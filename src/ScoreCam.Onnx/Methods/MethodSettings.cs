namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The options of every method in the <see cref="MethodCatalog"/>, so that one settings object builds any of them by
/// name. Each method reads its own part; <see cref="Variant"/> applies to every method that has such a variant.
/// </summary>
public sealed record MethodSettings
{
    public ScoreCamOptions ScoreCam { get; init; } = new();
    public RiseOptions Rise { get; init; } = new();
    public SmoothGradOptions SmoothGrad { get; init; } = new();
    public IntegratedGradientsOptions IntegratedGradients { get; init; } = new();
    public MaskOptions Mask { get; init; } = new();

    /// <summary>How pixel-space methods reduce their C×H×W attribution to the displayed map.</summary>
    public ChannelReduction Reduction { get; init; } = ChannelReduction.MaxAbs;

    /// <summary>
    /// Reproduce another implementation's numbers instead of the papers': Score-CAM, Grad-CAM++ and XGrad-CAM differ
    /// there; Grad-CAM and LayerCAM are the same in both (the Grad-CAM family's raw-logit target included).
    /// </summary>
    public CompatibilityVariant Variant { get; init; } = CompatibilityVariant.Paper;
}
