using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// Deletion and insertion (Petsiuk et al., RISE; the Score-CAM paper's Fig. 10). Pixels are taken in order of
/// decreasing saliency (ties in row-major order) and, over <see cref="CausalMetricOptions.Steps"/> equal steps,
/// either removed from the input (set to 0 on every channel of the normalized tensor: the dataset's mean colour when
/// the preprocessing normalizes by mean and std, black when it only scales) or inserted into a blurred copy of the
/// input (<see cref="GaussianBlur"/>) from the input. After step i, ⌊i·n/steps⌋ of the n pixels have changed. The
/// class probability (softmax) at the steps 0..steps is the curve; its area by the trapezoidal rule over the changed
/// fraction [0, 1] is the score. Deletion: lower is better; insertion: higher is better. The masked images go through
/// the model in batches (the runner's). Thread-safe.
/// </summary>
public sealed class CausalMetric
{
    public CausalMetric(CausalMetricKind kind, CausalMetricOptions? options = null)
    {
        Kind = kind;
        Options = options ?? new CausalMetricOptions();
        if (Options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), "Use at least one step.");
        Blur = new GaussianBlur(Options.BlurKernelSize, Options.BlurSigma);
    }

    public CausalMetricKind Kind { get; }
    public CausalMetricOptions Options { get; }
    internal GaussianBlur Blur { get; }

    /// <summary>
    /// Runs the metric on one image: <paramref name="saliency"/> is a map of the input's size (the heatmap),
    /// <paramref name="classIndex"/> the class explained.
    /// </summary>
    public CausalCurve Measure(IBatchRunner runner, ImageTensor image, SaliencyMap saliency, int classIndex, CancellationToken cancellationToken = default)
    {
        if (saliency.Width != image.Width || saliency.Height != image.Height)
            throw new ArgumentException($"The saliency map is {saliency.Width}x{saliency.Height}; the input is {image.Width}x{image.Height}.", nameof(saliency));
        int plane = image.Width * image.Height, length = image.Data.Length, channels = image.Channels, steps = Options.Steps;
        int[] order = Order(saliency.Values);

        float[] current, final;
        if (Kind == CausalMetricKind.Deletion)
        {
            current = (float[])image.Data.Clone();
            final = new float[length];
        }
        else
        {
            current = new float[length];
            Blur.Apply(image.Data, channels, image.Height, image.Width, current);
            final = image.Data;
        }

        var probabilities = new float[steps + 1];
        int changed = 0;
        ClassProbability.Compute(runner, image, steps + 1, (step, input) =>
        {
            // Steps are written in order: each one changes the next pixels of the ordering in place.
            int target = (int)((long)step * plane / steps);
            for (; changed < target; changed++)
            {
                int p = order[changed];
                for (int c = 0; c < channels; c++) current[c * plane + p] = final[c * plane + p];
            }
            current.AsSpan().CopyTo(input);
            return true;
        }, classIndex, probabilities, cancellationToken);
        var curve = Array.ConvertAll(probabilities, p => (double)p);
        return new CausalCurve(curve, Auc(curve));
    }

    /// <summary>Pixel indices by decreasing saliency, ties in row-major order.</summary>
    public static int[] Order(ReadOnlySpan<float> saliency)
    {
        float[] values = saliency.ToArray();
        int[] order = Enumerable.Range(0, values.Length).ToArray();
        Array.Sort(order, (a, b) => values[a] != values[b] ? values[b].CompareTo(values[a]) : a.CompareTo(b));
        return order;
    }

    /// <summary>Area under a curve sampled at equal steps over [0, 1] (trapezoidal rule); a single point is its value.</summary>
    public static double Auc(ReadOnlySpan<double> curve)
    {
        if (curve.Length == 0) throw new ArgumentException("The curve is empty.", nameof(curve));
        if (curve.Length == 1) return curve[0];
        double sum = 0;
        for (int i = 0; i + 1 < curve.Length; i++) sum += (curve[i] + curve[i + 1]) / 2;
        return sum / (curve.Length - 1);
    }
}

public enum CausalMetricKind
{
    /// <summary>Remove the most salient pixels first; a faithful map makes the probability fall fast (low AUC).</summary>
    Deletion,
    /// <summary>Insert the most salient pixels first into a blurred image; a faithful map makes it rise fast (high AUC).</summary>
    Insertion,
}

/// <summary>Options of <see cref="CausalMetric"/>.</summary>
public sealed record CausalMetricOptions
{
    /// <summary>Equal steps from none to all pixels changed (the curve has Steps + 1 points).</summary>
    public int Steps { get; init; } = 32;

    /// <summary>The insertion baseline's blur: kernel size (odd) and σ, as Petsiuk et al.</summary>
    public int BlurKernelSize { get; init; } = 11;

    public double BlurSigma { get; init; } = 5;
}

/// <summary>The probability after each step (<see cref="Probabilities"/>[i] at fraction i / steps) and its area.</summary>
public sealed record CausalCurve(double[] Probabilities, double Auc);
