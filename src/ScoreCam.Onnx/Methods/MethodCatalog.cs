namespace ScoreCam.Onnx.Methods;

/// <summary>One method of the catalogue: its name, other spellings, what it is, and how to build it from settings.</summary>
public sealed record MethodEntry(string Name, MethodKind Kind, string Description, Func<MethodSettings, IExplanationMethod> Create, params string[] Aliases);

/// <summary>
/// Every explanation method by name: what the command line, the evaluation and the tests build methods from.
/// A new method is one file and one line here.
/// </summary>
public static class MethodCatalog
{
    public static IReadOnlyList<MethodEntry> Entries { get; } = new MethodEntry[]
    {
        new("scorecam", MethodKind.Cam, "Score-CAM (Wang et al.): channel weights from masked forward passes",
            s => new ScoreCamMethod(s.Variant == CompatibilityVariant.Paper ? s.ScoreCam : s.ScoreCam with { Variant = s.Variant }), "score-cam"),
        new("gradcam", MethodKind.Cam, "Grad-CAM (Selvaraju et al.): spatial mean of dY/dA", _ => new GradCamMethod(), "grad-cam"),
        new("gradcam++", MethodKind.Cam, "Grad-CAM++ (Chattopadhay et al.)",
            s => new GradCamPlusPlusMethod(s.Variant), "grad-cam++", "gradcampp"),
        new("xgradcam", MethodKind.Cam, "XGrad-CAM (Fu et al.)", s => new XGradCamMethod(s.Variant), "xgrad-cam"),
        new("layercam", MethodKind.Cam, "LayerCAM (Jiang et al.): element-wise ReLU(dY/dA) ⊙ A", _ => new LayerCamMethod(), "layer-cam"),
        new("rise", MethodKind.PixelSpace, "RISE (Petsiuk et al.): random masks weighted by the target's score", s => new RiseMethod(s.Rise)),
        new("gradient", MethodKind.PixelSpace, "vanilla gradient (Simonyan et al.): dY/dx", s => new VanillaGradientMethod(s.Reduction), "vanilla-gradient", "saliency"),
        new("input-x-gradient", MethodKind.PixelSpace, "gradient × input (Shrikumar et al.)", s => new InputTimesGradientMethod(s.Reduction), "gradient-x-input"),
        new("guided-backprop", MethodKind.PixelSpace, "Guided Backpropagation (Springenberg et al.)", s => new GuidedBackpropMethod(s.Reduction), "guided-backpropagation"),
        new("smoothgrad", MethodKind.PixelSpace, "SmoothGrad (Smilkov et al.): mean gradient over noisy copies",
            s => new SmoothGradMethod(s.SmoothGrad, s.Reduction), "smooth-grad"),
        new("integrated-gradients", MethodKind.PixelSpace, "Integrated Gradients (Sundararajan et al.): path integral from a baseline",
            s => new IntegratedGradientsMethod(s.IntegratedGradients, s.Reduction), "ig"),
        new("mask", MethodKind.PixelSpace, "Mask (Fong and Vedaldi): an optimised deletion mask", s => new MaskMethod(s.Mask), "meaningful-perturbation"),
        new("guided-scorecam", MethodKind.Combination, "Guided Score-CAM (eq. 6): Score-CAM heatmap × Guided Backpropagation",
            s => new GuidedCamMethod("guided-scorecam", Create("scorecam", s), s.Reduction), "guided-score-cam"),
        new("guided-gradcam", MethodKind.Combination, "Guided Grad-CAM: Grad-CAM heatmap × Guided Backpropagation",
            s => new GuidedCamMethod("guided-gradcam", Create("gradcam", s), s.Reduction), "guided-grad-cam"),
    };

    /// <summary>The methods' names, in catalogue order.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    /// <summary>The entry named <paramref name="name"/> (or one of its aliases, case-insensitive).</summary>
    public static bool TryFind(string name, out MethodEntry entry)
    {
        entry = Entries.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
            || e.Aliases.Any(a => a.Equals(name, StringComparison.OrdinalIgnoreCase)))!;
        return entry is not null;
    }

    /// <summary>Builds the method named <paramref name="name"/>; an unknown name is an <see cref="ArgumentException"/> listing the names.</summary>
    public static IExplanationMethod Create(string name, MethodSettings? settings = null) =>
        TryFind(name, out MethodEntry entry) ? entry.Create(settings ?? new MethodSettings())
            : throw new ArgumentException($"Unknown method '{name}'; the methods are {string.Join(", ", Names)}.", nameof(name));
}
