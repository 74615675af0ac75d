namespace ScoreCam.Onnx.Methods;

/// <summary>Options that several methods declare alike.</summary>
public static class CommonOptions
{
    public static readonly MethodOption<int> Seed = MethodOption.Integer("seed", "Random seed (RISE's masks, SmoothGrad's noise, Mask's noise).", 0, int.MinValue, int.MaxValue);

    public static readonly MethodOption<ChannelReduction> Reduction = MethodOption.Choice("reduction",
        "Pixel-space methods: how the C×H×W attribution becomes the H×W map (max-abs: Simonyan et al.).", ChannelReduction.MaxAbs,
        ("max-abs", ChannelReduction.MaxAbs), ("sum-abs", ChannelReduction.SumAbs), ("sum", ChannelReduction.Sum), ("l2", ChannelReduction.L2));

    public static readonly MethodOption<CompatibilityVariant> Variant = MethodOption.Choice("variant",
        "Reproduce that implementation's numbers (Score-CAM, Grad-CAM++, XGrad-CAM); paper: the papers' definitions.", CompatibilityVariant.Paper,
        ("paper", CompatibilityVariant.Paper), ("pytorch-grad-cam", CompatibilityVariant.PytorchGradCam), ("torch-cam", CompatibilityVariant.TorchCam));

    /// <summary>pytorch-grad-cam's eigen_smooth for the CAM methods whose map is a sum of weighted activations (<see cref="CamMethod.EigenSmooth"/>).</summary>
    public static readonly MethodOption<bool> EigenSmooth = MethodOption.Switch("eigen-smooth",
        "CAM methods: the map is the first principal component of the weighted activations instead of their sum (pytorch-grad-cam's eigen_smooth).");

    /// <summary>pytorch-grad-cam's aug_smooth for any CAM method (<see cref="TestTimeAugmentation"/>).</summary>
    public static readonly MethodOption<bool> AugSmooth = MethodOption.Switch("aug-smooth",
        "CAM methods: the mean of the maps of the input flipped or not and multiplied by 0.9, 1 and 1.1, each flipped back (pytorch-grad-cam's aug_smooth; 6 explanations).");

    /// <summary>Upper bound of the options that count passes: far beyond any useful value, so that a typo is refused rather than run.</summary>
    public const int MaxPasses = 100_000;
}
