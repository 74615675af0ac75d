using System.Numerics.Tensors;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Integrated Gradients (Sundararajan et al., "Axiomatic Attribution for Deep Networks"), the right Riemann sum
/// IG = (x − x′) ⊙ (1/m) Σ_{k=1..m} ∇Y^c(x′ + (k/m)(x − x′)), with the m gradient passes and one pass at the
/// baseline in batches. Extras: <c>completeness_error</c> = Σ IG − (Y^c(x) − Y^c(x′)) (the axiom's residual, which
/// shrinks as m grows) and <c>score_difference</c> = Y^c(x) − Y^c(x′), Y the differentiated score.
/// </summary>
public sealed class IntegratedGradientsMethod : InputGradientMethod
{
    public IntegratedGradientsMethod(IntegratedGradientsOptions? options = null, ChannelReduction reduction = ChannelReduction.MaxAbs) : base(reduction)
    {
        Options = options ?? new IntegratedGradientsOptions();
        if (Options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), "Integrated Gradients needs at least one step.");
    }

    public IntegratedGradientsOptions Options { get; }

    public override string Name => "integrated-gradients";

    public static readonly MethodOption<int> Steps = MethodOption.Integer("ig-steps", "Integrated Gradients: right Riemann steps m.", new IntegratedGradientsOptions().Steps, 1, CommonOptions.MaxPasses, countsPasses: true);
    public static readonly MethodOption<IntegratedGradientsBaseline> Baseline = MethodOption.Choice("baseline",
        "Integrated Gradients' baseline x′: zeros (the zero tensor), black (a black picture preprocessed) or blur (a Gaussian blur of the input).",
        IntegratedGradientsBaseline.Zeros, ("zeros", IntegratedGradientsBaseline.Zeros), ("black", IntegratedGradientsBaseline.Black), ("blur", IntegratedGradientsBaseline.Blur));

    public static IReadOnlyList<MethodOption> Declared { get; } = [Steps, Baseline, CommonOptions.Reduction];

    public static IntegratedGradientsMethod From(MethodSettings s) =>
        new(new IntegratedGradientsOptions { Steps = s.Get(Steps), Baseline = s.Get(Baseline) }, s.Get(CommonOptions.Reduction));

    public override IReadOnlyDictionary<string, string> Settings => MethodSettings.Describe((Steps, Options.Steps), (Baseline, Options.Baseline),
        (CommonOptions.Reduction, Reduction));

    protected override (float[], IReadOnlyDictionary<string, double>?) Attribute(ExplanationContext context, int target)
    {
        float[] x = context.Image.Data;
        int m = Options.Steps, length = x.Length;
        float[] baseline = BaselineInput(context);
        var ig = new float[length];
        float atBaseline = 0, atInput = 0;
        // Item 0 is the baseline itself (for Y(x′)); items 1..m the path points k/m, whose gradients are summed as they come.
        context.InputGradients(m + 1, target, guided: false,
            (k, point) =>
            {
                float alpha = (float)k / m;
                for (int i = 0; i < length; i++) point[i] = baseline[i] + alpha * (x[i] - baseline[i]);
            },
            (k, gradient, score) =>
            {
                if (k == 0) atBaseline = score;
                else TensorPrimitives.Add(ig, gradient, ig);
                if (k == m) atInput = score;
            });
        double total = 0;
        for (int i = 0; i < length; i++)
        {
            ig[i] = (x[i] - baseline[i]) * ig[i] / m;
            total += ig[i];
        }
        double difference = (double)atInput - atBaseline;
        return (ig, new Dictionary<string, double> { ["completeness_error"] = total - difference, ["score_difference"] = difference });
    }

    private float[] BaselineInput(ExplanationContext context)
    {
        var image = context.Image;
        switch (Options.Baseline)
        {
            case IntegratedGradientsBaseline.Black:
                return context.BlackInput.ToArray();
            case IntegratedGradientsBaseline.Blur:
                var blurred = new float[image.Data.Length];
                new GaussianBlur(Options.BlurKernelSize, Options.BlurSigma).Apply(image.Data, image.Channels, image.Height, image.Width, blurred);
                return blurred;
            default:
                return new float[image.Data.Length];
        }
    }
}
