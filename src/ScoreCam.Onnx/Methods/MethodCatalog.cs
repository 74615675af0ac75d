namespace ScoreCam.Onnx.Methods;

/// <summary>One method of the catalogue: its name, what it is, the options it declares, how to build it from settings, and other spellings.</summary>
public sealed record MethodEntry(string Name, MethodKind Kind, string Description, IReadOnlyList<MethodOption> Options,
    Func<MethodSettings, IExplanationMethod> Create, params string[] Aliases);

/// <summary>
/// Every explanation method by name: what the command line, the HTTP service, the evaluation and the tests build
/// methods from. A new method is one file (with its option declarations) and one line here.
/// </summary>
public static class MethodCatalog
{
    private static readonly MethodOption[] Reduction = [CommonOptions.Reduction];

    public static IReadOnlyList<MethodEntry> Entries { get; } = new MethodEntry[]
    {
        Cam("scorecam", "Score-CAM (Wang et al.): channel weights from masked forward passes", ScoreCamMethod.Declared, ScoreCamMethod.From, "score-cam"),
        Cam("gradcam", "Grad-CAM (Selvaraju et al.): spatial mean of dY/dA", [], _ => new GradCamMethod(), "grad-cam"),
        Cam("gradcam++", "Grad-CAM++ (Chattopadhay et al.)", GradCamPlusPlusMethod.Declared, GradCamPlusPlusMethod.From, "grad-cam++", "gradcampp"),
        Cam("xgradcam", "XGrad-CAM (Fu et al.)", XGradCamMethod.Declared, XGradCamMethod.From, "xgrad-cam"),
        Cam("layercam", "LayerCAM (Jiang et al.): element-wise ReLU(dY/dA) ⊙ A", [], _ => new LayerCamMethod(), "layer-cam"),
        Cam("hirescam", "HiResCAM (Draelos and Carin): Σ_k dY/dA_k ⊙ A_k, no spatial averaging", [], _ => new HiResCamMethod(), "hires-cam"),
        Cam("eigencam", "Eigen-CAM (Muhammad and Yeasin): first principal component of A", EigenCamMethod.Declared, EigenCamMethod.From, "eigen-cam"),
        Cam("eigengradcam", "EigenGrad-CAM (pytorch-grad-cam): first principal component of dY/dA ⊙ A", [], _ => new EigenGradCamMethod(), "eigen-grad-cam"),
        Cam("sscam", "SS-CAM (Wang, Naidu et al.): Score-CAM weights averaged over noisy copies", SsCamMethod.Declared, SsCamMethod.From, "ss-cam"),
        Cam("iscam", "IS-CAM (Naidu et al.): Score-CAM weights integrated over scaled masks", IsCamMethod.Declared, IsCamMethod.From, "is-cam"),
        Cam("groupcam", "Group-CAM (Zhang et al.): groups of Grad-CAM-weighted channels scored on a blurred baseline", GroupCamMethod.Declared, GroupCamMethod.From, "group-cam"),
        Cam("ablationcam", "Ablation-CAM (Desai and Ramaswamy): score drop with each channel zeroed", AblationCamMethod.Declared, AblationCamMethod.From, "ablation-cam"),
        Cam("reciprocam", "Recipro-CAM (Byun and Lee): score of the activations kept at one position", ReciproCamMethod.Declared, ReciproCamMethod.From, "recipro-cam"),
        new("rise", MethodKind.PixelSpace, "RISE (Petsiuk et al.): random masks weighted by the target's score", RiseMethod.Declared, RiseMethod.From),
        new("gradient", MethodKind.PixelSpace, "vanilla gradient (Simonyan et al.): dY/dx", Reduction,
            s => new VanillaGradientMethod(s.Get(CommonOptions.Reduction)), "vanilla-gradient", "saliency"),
        new("input-x-gradient", MethodKind.PixelSpace, "gradient × input (Shrikumar et al.)", Reduction,
            s => new InputTimesGradientMethod(s.Get(CommonOptions.Reduction)), "gradient-x-input"),
        new("guided-backprop", MethodKind.PixelSpace, "Guided Backpropagation (Springenberg et al.)", Reduction,
            s => new GuidedBackpropMethod(s.Get(CommonOptions.Reduction)), "guided-backpropagation"),
        new("smoothgrad", MethodKind.PixelSpace, "SmoothGrad (Smilkov et al.): mean gradient over noisy copies", SmoothGradMethod.Declared, SmoothGradMethod.From, "smooth-grad"),
        new("integrated-gradients", MethodKind.PixelSpace, "Integrated Gradients (Sundararajan et al.): path integral from a baseline",
            IntegratedGradientsMethod.Declared, IntegratedGradientsMethod.From, "ig"),
        new("mask", MethodKind.PixelSpace, "Mask (Fong and Vedaldi): an optimised deletion mask", MaskMethod.Declared, MaskMethod.From, "meaningful-perturbation"),
        new("guided-scorecam", MethodKind.Combination, "Guided Score-CAM (eq. 6): Score-CAM heatmap × Guided Backpropagation", [.. ScoreCamMethod.Declared, .. Reduction],
            s => new GuidedCamMethod("guided-scorecam", ScoreCamMethod.From(s), s.Get(CommonOptions.Reduction)), "guided-score-cam"),
        new("guided-gradcam", MethodKind.Combination, "Guided Grad-CAM: Grad-CAM heatmap × Guided Backpropagation", Reduction,
            s => new GuidedCamMethod("guided-gradcam", new GradCamMethod(), s.Get(CommonOptions.Reduction)), "guided-grad-cam"),
    };

    /// <summary>
    /// A CAM method's entry: its own options and pytorch-grad-cam's two smoothings, which any CAM method takes:
    /// eigen-smooth (where the map is a sum of weighted activations: a <see cref="CamMethod"/>) and aug-smooth.
    /// </summary>
    private static MethodEntry Cam(string name, string description, IReadOnlyList<MethodOption> options, Func<MethodSettings, IExplanationMethod> create,
        params string[] aliases) =>
        new(name, MethodKind.Cam, description, [.. options, CommonOptions.EigenSmooth, CommonOptions.AugSmooth], s => Smoothed(create(s), s), aliases);

    private static IExplanationMethod Smoothed(IExplanationMethod method, MethodSettings s)
    {
        if (s.Get(CommonOptions.EigenSmooth))
        {
            if (method is not CamMethod cam)
                throw new Core.ScoreCamException($"{method.Name}'s map is not a sum of weighted activations; eigen smoothing does not apply to it.");
            cam.SetEigenSmooth(true);
        }
        return s.Get(CommonOptions.AugSmooth) ? new TestTimeAugmentation(method) : method;
    }

    /// <summary>The methods' names, in catalogue order.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    /// <summary>Every option some method declares, once each, in catalogue order.</summary>
    public static IReadOnlyList<MethodOption> Options { get; } = Entries.SelectMany(e => e.Options).Distinct().ToArray();

    /// <summary>The declared option named <paramref name="name"/>, or null.</summary>
    public static MethodOption? FindOption(string name) => Options.FirstOrDefault(o => o.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The entry named <paramref name="name"/> (or one of its aliases, case-insensitive).</summary>
    public static bool TryFind(string name, out MethodEntry entry)
    {
        entry = Entries.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
            || e.Aliases.Any(a => a.Equals(name, StringComparison.OrdinalIgnoreCase)))!;
        return entry is not null;
    }

    /// <summary>Builds the method named <paramref name="name"/>; an unknown name is an <see cref="ArgumentException"/> listing the names (and the closest one).</summary>
    public static IExplanationMethod Create(string name, MethodSettings? settings = null) =>
        TryFind(name, out MethodEntry entry) ? entry.Create(settings ?? new MethodSettings())
            : throw new ArgumentException(UnknownMethod(name), nameof(name));

    /// <summary>"unknown method 'X'" with the closest name ("did you mean") and the list of names.</summary>
    public static string UnknownMethod(string name) =>
        $"Unknown method '{name}'{Core.Suggestion.Closest(name, Entries.SelectMany(e => e.Aliases.Prepend(e.Name))) switch { { } s => $" (did you mean '{s}'?)", _ => "" }}; " +
        $"the methods are {string.Join(", ", Names)}.";
}
