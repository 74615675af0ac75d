namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// ROAD's noisy linear imputation (Rong et al. 2022, section 4 and appendix): each removed pixel takes the weighted
/// mean of its 8 neighbours (weights 1/6 at the sides, 1/12 at the corners; neighbours outside the image are left
/// out), removed neighbours being unknowns themselves, so the removed pixels solve one sparse symmetric system
/// (S_i x_i − Σ_removed w_ij x_j = Σ_kept w_ij x_j), per channel; then Gaussian noise of standard deviation σ
/// (absolute, in the input tensor's units) is added to every imputed value. Solved by conjugate gradients in double
/// to a relative residual of 1e-8.
/// </summary>
internal static class NoisyLinearImputation
{
    private static readonly (int Dy, int Dx, double Weight)[] Neighbours =
    {
        (1, 1, 1 / 12.0), (0, 1, 1 / 6.0), (-1, 1, 1 / 12.0), (1, -1, 1 / 12.0),
        (0, -1, 1 / 6.0), (-1, -1, 1 / 12.0), (1, 0, 1 / 6.0), (-1, 0, 1 / 6.0),
    };

    /// <summary>
    /// Writes <paramref name="image"/> (C×H×W) with the pixels where <paramref name="removed"/> (H×W) is true imputed
    /// into <paramref name="destination"/>; the noise is drawn from <paramref name="random"/> channel by channel, pixel
    /// by pixel in row-major order (Box–Muller).
    /// </summary>
    public static void Impute(ReadOnlySpan<float> image, int channels, int height, int width, ReadOnlySpan<bool> removed, double sigma,
        Random random, Span<float> destination)
    {
        int plane = height * width;
        image.CopyTo(destination);
        var unknown = new int[plane];
        var pixels = new List<int>();
        for (int p = 0; p < plane; p++)
        {
            unknown[p] = removed[p] ? pixels.Count : -1;
            if (removed[p]) pixels.Add(p);
        }
        int n = pixels.Count;
        if (n == 0) return;
        if (n == plane) throw new ArgumentException("At least one pixel must be kept for the imputation to have values to spread.", nameof(removed));

        // The system's rows: diagonal S_i and the removed neighbours' (index, weight).
        var diagonal = new double[n];
        var links = new List<(int Column, double Weight)>[n];
        for (int i = 0; i < n; i++)
        {
            int y = pixels[i] / width, x = pixels[i] % width;
            links[i] = new List<(int, double)>(8);
            foreach (var (dy, dx, w) in Neighbours)
            {
                int ny = y + dy, nx = x + dx;
                if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
                diagonal[i] += w;
                if (unknown[ny * width + nx] is >= 0 and var j) links[i].Add((j, w));
            }
        }
        var b = new double[n];
        var solution = new double[n];
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> channel = image.Slice(c * plane, plane);
            for (int i = 0; i < n; i++)
            {
                int y = pixels[i] / width, x = pixels[i] % width;
                double sum = 0;
                foreach (var (dy, dx, w) in Neighbours)
                {
                    int ny = y + dy, nx = x + dx;
                    if (ny >= 0 && ny < height && nx >= 0 && nx < width && unknown[ny * width + nx] < 0) sum += w * channel[ny * width + nx];
                }
                b[i] = sum;
            }
            ConjugateGradients(diagonal, links, b, solution);
            Span<float> target = destination.Slice(c * plane, plane);
            for (int i = 0; i < n; i++) target[pixels[i]] = (float)(solution[i] + sigma * Core.StandardNormal.Sample(random));
        }
    }

    private static void ConjugateGradients(double[] diagonal, List<(int Column, double Weight)>[] links, double[] b, double[] x)
    {
        int n = b.Length;
        Array.Clear(x);
        var r = (double[])b.Clone();
        var p = (double[])b.Clone();
        var ap = new double[n];
        double rr = Dot(r, r), stop = 1e-16 * Math.Max(rr, double.Epsilon);
        for (int iteration = 0; iteration < 10 * n && rr > stop; iteration++)
        {
            for (int i = 0; i < n; i++)
            {
                double sum = diagonal[i] * p[i];
                foreach (var (j, w) in links[i]) sum -= w * p[j];
                ap[i] = sum;
            }
            double alpha = rr / Dot(p, ap);
            for (int i = 0; i < n; i++)
            {
                x[i] += alpha * p[i];
                r[i] -= alpha * ap[i];
            }
            double next = Dot(r, r);
            for (int i = 0; i < n; i++) p[i] = r[i] + next / rr * p[i];
            rr = next;
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
