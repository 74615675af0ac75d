using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Mask, the meaningful perturbation of Fong and Vedaldi ("Interpretable Explanations of Black Boxes by Meaningful
/// Perturbation"), the Score-CAM paper's optimisation baseline. A small mask m ∈ [0, 1] (1 keeps a pixel), upsampled
/// bilinearly to U(m), blends the input with a blurred copy: Φ(x; m) = U(m) ⊙ x + (1 − U(m)) ⊙ blur(x) (or a constant
/// 0, <see cref="MaskOptions.Perturbation"/>). Adam
/// minimises λ1·mean|1 − m| + λ2·TV_β(m) + p_c(Φ(x; m) + noise), TV_β(m) = mean_ij |m_{i+1,j} − m_ij|^β +
/// mean_ij |m_{i,j+1} − m_ij|^β, p_c the target's probability, m clipped to [0, 1] after every step, starting from
/// m = 1. The map is 1 − m (what had to be deleted), at the mask's resolution. Extras: the final loss and the target's
/// probability on the noise-free perturbed input. Seeded and deterministic.
/// </summary>
public sealed class MaskMethod : IExplanationMethod
{
    private const double Beta1 = 0.9, Beta2 = 0.999, AdamEpsilon = 1e-8;

    public MaskMethod(MaskOptions? options = null)
    {
        Options = options ?? new MaskOptions();
        if (Options.Iterations < 1) throw new ArgumentOutOfRangeException(nameof(options), "The mask needs at least one iteration.");
        if (Options.Size < 2) throw new ArgumentOutOfRangeException(nameof(options), "The mask needs at least 2 cells per side.");
        if (!(Options.LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(options), "The learning rate must be positive.");
        if (!(Options.L1 >= 0 && Options.TotalVariation >= 0 && Options.Noise >= 0 && Options.TotalVariationBeta >= 1))
            throw new ArgumentOutOfRangeException(nameof(options), "The weights and the noise must be 0 or positive, β at least 1.");
    }

    public MaskOptions Options { get; }

    public string Name => "mask";

    public static readonly MethodOption<int> Iterations = MethodOption.Integer("mask-iterations", "Mask: Adam steps.", new MaskOptions().Iterations, 1, CommonOptions.MaxPasses, countsPasses: true);

    public static IReadOnlyList<MethodOption> Declared { get; } = [Iterations, CommonOptions.Seed];

    public static MaskMethod From(MethodSettings s) => new(new MaskOptions { Iterations = s.Get(Iterations), Seed = s.Get(CommonOptions.Seed) });

    public IReadOnlyDictionary<string, string> Settings => MethodSettings.Describe((Iterations, Options.Iterations), (CommonOptions.Seed, Options.Seed));

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        var results = new MethodResult[context.Targets.Count];
        for (int t = 0; t < results.Length; t++) results[t] = Optimise(context, t);
        return results;
    }

    private MethodResult Optimise(ExplanationContext context, int target)
    {
        ImageTensor image = context.Image;
        int s = Options.Size, cells = s * s, plane = image.Height * image.Width, channels = image.Channels, length = image.Data.Length;
        float[] x = image.Data, blurred = new float[length];
        if (Options.Perturbation == MaskPerturbation.Blur)
            new GaussianBlur(Options.BlurKernelSize, Options.BlurSigma).Apply(x, channels, image.Height, image.Width, blurred);
        var upsampler = new BilinearUpsampler(s, s, image.Height, image.Width);
        float[] scratch = new float[upsampler.ScratchLength], up = new float[plane], perturbed = new float[length], gradUp = new float[plane];
        // The step's buffers live for the whole optimisation: no allocation per iteration.
        float[] gradient = new float[length], fromScore = new float[cells];
        var mask = new float[cells];
        Array.Fill(mask, 1f);
        double[] gradMask = new double[cells], first = new double[cells], second = new double[cells];
        var random = new Random(Options.Seed);
        double loss = 0;

        for (int step = 1; step <= Options.Iterations; step++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            Perturb(mask, upsampler, x, blurred, up, scratch, perturbed, channels, plane);
            if (Options.Noise > 0)
                for (int i = 0; i < length; i++) perturbed[i] += (float)(Options.Noise * StandardNormal.Sample(random));
            float probability = context.ScoreInputGradient(perturbed, target, ScoreMode.Probability, gradient);

            // dp/dU(m) = Σ_c dp/dΦ_c ⊙ (x_c − blur(x)_c), then back through the upsampling.
            Array.Clear(gradUp);
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < plane; i++) gradUp[i] += gradient[c * plane + i] * (x[c * plane + i] - blurred[c * plane + i]);
            Array.Clear(fromScore);
            upsampler.Transpose(gradUp, fromScore);
            loss = probability + Regularizer(mask, s, gradMask);
            for (int i = 0; i < cells; i++) gradMask[i] += fromScore[i];

            // Adam, then the box constraint.
            double correction1 = 1 - Math.Pow(Beta1, step), correction2 = 1 - Math.Pow(Beta2, step);
            for (int i = 0; i < cells; i++)
            {
                first[i] = Beta1 * first[i] + (1 - Beta1) * gradMask[i];
                second[i] = Beta2 * second[i] + (1 - Beta2) * gradMask[i] * gradMask[i];
                double update = Options.LearningRate * (first[i] / correction1) / (Math.Sqrt(second[i] / correction2) + AdamEpsilon);
                mask[i] = (float)Math.Clamp(mask[i] - update, 0, 1);
            }
            context.Progress?.Report(new ExplanationProgress(step, Options.Iterations));
        }

        Perturb(mask, upsampler, x, blurred, up, scratch, perturbed, channels, plane);
        float final = context.ScoreInputGradient(perturbed, target, ScoreMode.Probability, gradient);
        var deleted = new float[cells];
        for (int i = 0; i < cells; i++) deleted[i] = 1 - mask[i];
        return new MethodResult(new SaliencyMap(s, s, deleted), Extras: new Dictionary<string, double>
        {
            ["loss"] = loss,
            ["perturbed_probability"] = final,
        });
    }

    /// <summary>Φ = U(m) ⊙ x + (1 − U(m)) ⊙ blur(x), into <paramref name="perturbed"/>.</summary>
    private static void Perturb(float[] mask, BilinearUpsampler upsampler, float[] x, float[] blurred, float[] up, float[] scratch, float[] perturbed,
        int channels, int plane)
    {
        upsampler.Upsample(mask, up, scratch);
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < plane; i++)
            {
                int j = c * plane + i;
                perturbed[j] = blurred[j] + up[i] * (x[j] - blurred[j]);
            }
    }

    /// <summary>λ1·mean|1 − m| + λ2·TV_β(m); writes its gradient with respect to m into <paramref name="gradient"/>.</summary>
    internal double Regularizer(float[] mask, int s, double[] gradient)
    {
        int cells = s * s, pairs = (s - 1) * s;
        double beta = Options.TotalVariationBeta, l1 = 0, tv = 0;
        for (int i = 0; i < cells; i++)
        {
            double d = 1 - mask[i];
            l1 += Math.Abs(d);
            gradient[i] = -Options.L1 * Math.Sign(d) / cells;
        }
        void Pair(int a, int b)
        {
            double d = mask[b] - mask[a], magnitude = Math.Abs(d);
            tv += Math.Pow(magnitude, beta);
            double g = Options.TotalVariation * beta * Math.Pow(magnitude, beta - 1) * Math.Sign(d) / pairs;
            gradient[b] += g;
            gradient[a] -= g;
        }
        for (int i = 0; i + 1 < s; i++)
            for (int j = 0; j < s; j++) Pair(i * s + j, (i + 1) * s + j);
        for (int i = 0; i < s; i++)
            for (int j = 0; j + 1 < s; j++) Pair(i * s + j, i * s + j + 1);
        return Options.L1 * l1 / cells + Options.TotalVariation * tv / pairs;
    }
}
