namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// A metric's mean over images with the half-width of its 95% confidence interval (normal approximation:
/// 1.96 · s / √n with s the sample standard deviation; 0 for a single value). NaN values are left out.
/// </summary>
public readonly record struct MeanInterval(double Mean, double Ci95, int Count)
{
    public static MeanInterval Of(IEnumerable<double> values)
    {
        double[] v = values.Where(x => !double.IsNaN(x)).ToArray();
        if (v.Length == 0) return new MeanInterval(double.NaN, double.NaN, 0);
        double mean = v.Average();
        if (v.Length == 1) return new MeanInterval(mean, 0, 1);
        double variance = v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1);
        return new MeanInterval(mean, 1.96 * Math.Sqrt(variance / v.Length), v.Length);
    }
}
