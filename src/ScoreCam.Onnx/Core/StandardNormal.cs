namespace ScoreCam.Onnx.Core;

/// <summary>Standard normal draws for the seeded noise of SmoothGrad and Mask, reproducible from a <see cref="Random"/>.</summary>
internal static class StandardNormal
{
    /// <summary>One draw by Box–Muller; 1 − U keeps the logarithm finite.</summary>
    public static double Sample(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
