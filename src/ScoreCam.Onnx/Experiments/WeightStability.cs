namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// Weight stability under attack (paper section 5.4.2, Fig. 12), per ε and method, mean over the pictures of an
/// <see cref="FgsmSweep"/>, from the methods' channel weights w (<see cref="Explanation.ChannelWeights"/>):
/// the relative change ‖w(ε) − w(0)‖ / ‖w(0)‖, the share of channels whose weight changes sign, and the variance of
/// the weights over the steps 0..ε, Σ_k Var_{ε' ≤ ε} w_k(ε') / ‖w(0)‖² (scale-free, so that probabilities and
/// gradients compare). A picture whose clean weights are all zero is left out.
/// </summary>
public static class WeightStability
{
    public static List<WeightStabilityRow> Summarize(IReadOnlyList<SweepPoint> points)
    {
        if (points.FirstOrDefault(p => p.Explanation.ChannelWeights.Length == 0) is { } bad)
            throw new ArgumentException($"{bad.Method} has no channel weights: weight stability compares CAM methods.", nameof(points));
        var epsilons = points.Select(p => p.Epsilon).Distinct().Order().ToList();
        var rows = new List<WeightStabilityRow>();
        foreach (var method in points.GroupBy(p => p.Method))
            foreach (float epsilon in epsilons)
            {
                var measures = method.GroupBy(p => p.Item.Image.File)
                    .Select(image => Measure(image.Where(p => p.Epsilon <= epsilon).OrderBy(p => p.Epsilon).ToList()))
                    .Where(m => m is not null).Select(m => m!.Value).ToList();
                rows.Add(new WeightStabilityRow(epsilon, method.Key, measures.Count,
                    measures.Count > 0 ? measures.Average(m => m.Relative) : double.NaN,
                    measures.Count > 0 ? measures.Average(m => m.Signs) : double.NaN,
                    measures.Count > 0 ? measures.Average(m => m.Variance) : double.NaN));
            }
        return rows;
    }

    /// <summary>The measures at the last of <paramref name="steps"/> (one picture's points up to ε, in ε order); null for all-zero clean weights.</summary>
    private static (double Relative, double Signs, double Variance)? Measure(List<SweepPoint> steps)
    {
        float[] w0 = steps[0].CleanWeights, w = steps[^1].Explanation.ChannelWeights;
        double norm2 = w0.Sum(v => (double)v * v);
        if (norm2 == 0) return null;
        double diff2 = 0;
        int signs = 0;
        for (int k = 0; k < w.Length; k++)
        {
            diff2 += ((double)w[k] - w0[k]) * ((double)w[k] - w0[k]);
            if (Math.Sign(w[k]) != Math.Sign(w0[k])) signs++;
        }
        double variance = 0;
        for (int k = 0; k < w.Length; k++)
        {
            double mean = steps.Average(p => (double)p.Explanation.ChannelWeights[k]);
            variance += steps.Average(p => (p.Explanation.ChannelWeights[k] - mean) * (p.Explanation.ChannelWeights[k] - mean));
        }
        return (Math.Sqrt(diff2 / norm2), (double)signs / w.Length, variance / norm2);
    }
}

/// <summary>One ε and method of <see cref="WeightStability.Summarize"/>.</summary>
public sealed record WeightStabilityRow(float Epsilon, string Method, int Images, double RelativeChange, double SignChanges, double Variance);
