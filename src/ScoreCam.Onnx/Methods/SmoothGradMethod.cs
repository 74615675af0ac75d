using System.Numerics.Tensors;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// SmoothGrad (Smilkov et al.): the mean of the input gradient over N noisy copies x + ε, ε ~ N(0, σ²) per element,
/// σ = noise × (max x − min x). The noise comes from one <see cref="Random"/> seeded with
/// <see cref="SmoothGradOptions.Seed"/> (Box–Muller, copy by copy, element by element); the N gradient passes run in
/// batches.
/// </summary>
public sealed class SmoothGradMethod : InputGradientMethod
{
    public SmoothGradMethod(SmoothGradOptions? options = null, ChannelReduction reduction = ChannelReduction.MaxAbs) : base(reduction)
    {
        Options = options ?? new SmoothGradOptions();
        if (Options.Samples < 1) throw new ArgumentOutOfRangeException(nameof(options), "SmoothGrad needs at least one sample.");
        if (!(Options.Noise >= 0) || double.IsInfinity(Options.Noise)) throw new ArgumentOutOfRangeException(nameof(options), "The noise level must be 0 or positive.");
    }

    public SmoothGradOptions Options { get; }

    public override string Name => "smoothgrad";

    public static readonly MethodOption<int> Samples = MethodOption.Integer("samples", "SmoothGrad: noisy copies N.", new SmoothGradOptions().Samples, 1, CommonOptions.MaxPasses, countsPasses: true);
    public static readonly MethodOption<double> Noise = MethodOption.Number("noise", "SmoothGrad: noise level (σ = noise × (max x − min x)).", new SmoothGradOptions().Noise, 0, 1e6);

    public static IReadOnlyList<MethodOption> Declared { get; } = [Samples, Noise, CommonOptions.Seed, CommonOptions.Reduction];

    public static SmoothGradMethod From(MethodSettings s) =>
        new(new SmoothGradOptions { Samples = s.Get(Samples), Noise = s.Get(Noise), Seed = s.Get(CommonOptions.Seed) }, s.Get(CommonOptions.Reduction));

    public override IReadOnlyDictionary<string, string> Settings => MethodSettings.Describe((Samples, Options.Samples), (Noise, Options.Noise),
        (CommonOptions.Seed, Options.Seed), (CommonOptions.Reduction, Reduction));

    protected override (float[], IReadOnlyDictionary<string, double>?) Attribute(ExplanationContext context, int target)
    {
        float[] x = context.Image.Data;
        int n = Options.Samples, length = x.Length;
        double sigma = Options.Noise * (TensorPrimitives.Max(x) - TensorPrimitives.Min(x));
        var random = new Random(Options.Seed);
        var mean = new float[length];
        // Copies are drawn batch by batch, in order, and their gradients summed as they come.
        context.InputGradients(n, target, guided: false,
            (_, noisy) =>
            {
                for (int i = 0; i < length; i++) noisy[i] = (float)(x[i] + sigma * StandardNormal.Sample(random));
            },
            (_, gradient, _) => TensorPrimitives.Add(mean, gradient, mean));
        TensorPrimitives.Multiply(mean, 1f / n, mean);
        return (mean, null);
    }
}
