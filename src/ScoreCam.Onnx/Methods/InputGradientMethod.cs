using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A pixel-space method built on input gradients: a signed C×H×W attribution per target, reduced over channels to
/// the H×W map (<see cref="Reduction"/>). A new method is its <see cref="Attribute"/> function.
/// </summary>
public abstract class InputGradientMethod : IExplanationMethod
{
    protected InputGradientMethod(ChannelReduction reduction) => Reduction = reduction;

    public abstract string Name { get; }

    /// <summary>The values of the options the method declares: the channel reduction, and a subclass's own.</summary>
    public virtual IReadOnlyDictionary<string, string> Settings => MethodSettings.Describe((CommonOptions.Reduction, Reduction));

    /// <summary>How the attribution's channels become the displayed map.</summary>
    public ChannelReduction Reduction { get; }

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        ImageTensor image = context.Image;
        var results = new MethodResult[context.Targets.Count];
        for (int t = 0; t < results.Length; t++)
        {
            var (values, extras) = Attribute(context, t);
            var attribution = new Attribution(image.Channels, image.Height, image.Width, values);
            results[t] = new MethodResult(Reduce(attribution, Reduction), Attribution: attribution, Extras: extras);
        }
        return results;
    }

    /// <summary>The attribution of target <paramref name="target"/> (C×H×W, the input's layout) and any diagnostics.</summary>
    protected abstract (float[] Attribution, IReadOnlyDictionary<string, double>? Extras) Attribute(ExplanationContext context, int target);

    /// <summary>dY/dx of target <paramref name="target"/> at the input itself (C×H×W): one gradient pass.</summary>
    protected static float[] InputGradient(ExplanationContext context, int target, bool guided)
    {
        float[] x = context.Image.Data, gradient = new float[x.Length];
        context.InputGradients(1, target, guided, (_, input) => x.CopyTo(input), (_, g, _) => g.CopyTo(gradient));
        return gradient;
    }

    /// <summary>The H×W map of an attribution.</summary>
    public static SaliencyMap Reduce(Attribution a, ChannelReduction reduction)
    {
        int plane = a.Height * a.Width;
        var map = new float[plane];
        for (int c = 0; c < a.Channels; c++)
        {
            ReadOnlySpan<float> p = a.Plane(c);
            for (int i = 0; i < plane; i++)
                map[i] = reduction switch
                {
                    ChannelReduction.MaxAbs => Math.Max(map[i], Math.Abs(p[i])),
                    ChannelReduction.SumAbs => map[i] + Math.Abs(p[i]),
                    ChannelReduction.Sum => map[i] + p[i],
                    _ => map[i] + p[i] * p[i],
                };
        }
        if (reduction == ChannelReduction.L2)
            for (int i = 0; i < plane; i++) map[i] = MathF.Sqrt(map[i]);
        return new SaliencyMap(a.Width, a.Height, map);
    }
}
