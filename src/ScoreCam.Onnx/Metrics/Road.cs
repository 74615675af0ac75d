using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// ROAD, Remove And Debias (Rong, Leemann, Borisov, Kasneci and Kasneci, ICML 2022, section 4): the fraction r of the
/// pixels ranked most relevant (MoRF) or least relevant (LeRF) by the heatmap is removed and filled in by
/// <see cref="NoisyLinearImputation"/> (σ = 0.01, noise from Random(<see cref="Seed"/>) per image), for r = 10%, 20%,
/// …, 90% as pytorch-grad-cam and Quantus run it; each result is the mean class probability (softmax) over the nine
/// imputed inputs. MoRF: lower is better; LeRF: higher is better. Ranking: decreasing saliency, ties in row-major
/// order; ⌊r·n⌋ of the n pixels are removed. 18 forward passes per explanation.
/// </summary>
internal static class Road
{
    public const double Noise = 0.01;
    public const int Seed = 0;
    private static readonly double[] Fractions = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 };

    /// <summary>(MoRF, LeRF) for <paramref name="heatmap"/> (the input's size) and class <paramref name="classIndex"/>.</summary>
    public static (double MostRelevantFirst, double LeastRelevantFirst) Measure(IBatchRunner runner, ImageTensor image, SaliencyMap heatmap, int classIndex)
    {
        if (heatmap.Width != image.Width || heatmap.Height != image.Height)
            throw new ArgumentException($"The heatmap is {heatmap.Width}x{heatmap.Height}; the input is {image.Width}x{image.Height}.", nameof(heatmap));
        int plane = image.Width * image.Height;
        int[] order = CausalMetric.Order(heatmap.Values);
        var random = new Random(Seed);
        var removed = new bool[plane];
        var probabilities = new float[2 * Fractions.Length];
        ClassProbability.Compute(runner, image, probabilities.Length, (item, input) =>
        {
            // Items 0..8 remove the most relevant pixels, 9..17 the least relevant.
            bool most = item < Fractions.Length;
            int count = (int)(Fractions[item % Fractions.Length] * plane);
            Array.Clear(removed);
            for (int i = 0; i < count; i++) removed[most ? order[i] : order[plane - 1 - i]] = true;
            NoisyLinearImputation.Impute(image.Data, image.Channels, image.Height, image.Width, removed, Noise, random, input);
            return true;
        }, classIndex, probabilities);
        return (probabilities.AsSpan(0, Fractions.Length).ToArray().Average(), probabilities.AsSpan(Fractions.Length).ToArray().Average());
    }
}
