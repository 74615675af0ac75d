namespace ScoreCam.Onnx.Kernels;

/// <summary>
/// The first principal direction of K maps of n values, read as an n × K matrix X (one row per position, one column
/// per map): the unit vector v maximising |X v|, the first right singular vector of X. Computed in double by power
/// iteration on the smaller Gram matrix (XᵀX, K × K, or XXᵀ, n × n); the projection X v is Σ_k v_k X_k.
/// </summary>
internal static class PrincipalComponent
{
    private const int MaxIterations = 100_000;
    private const double Tolerance = 1e-13;

    /// <summary>
    /// v (K values) of the K planes in <paramref name="maps"/> (each <paramref name="plane"/> long); with
    /// <paramref name="centered"/> each column is first centered on its mean. Its sign is arbitrary (the caller fixes it);
    /// all zeros when X is zero.
    /// </summary>
    public static double[] FirstDirection(ReadOnlySpan<float> maps, int channels, int plane, bool centered)
    {
        var x = new double[plane * channels]; // row-major n × K
        for (int k = 0; k < channels; k++)
        {
            ReadOnlySpan<float> column = maps.Slice(k * plane, plane);
            double mean = 0;
            if (centered)
            {
                foreach (float value in column) mean += value;
                mean /= plane;
            }
            for (int i = 0; i < plane; i++) x[i * channels + k] = column[i] - mean;
        }
        if (channels <= plane) return TopEigenvector(Gram(x, plane, channels, transpose: true), channels);
        // XXᵀ's top eigenvector u gives v = Xᵀu / |Xᵀu|.
        double[] u = TopEigenvector(Gram(x, plane, channels, transpose: false), plane);
        var v = new double[channels];
        for (int i = 0; i < plane; i++)
            for (int k = 0; k < channels; k++) v[k] += x[i * channels + k] * u[i];
        Normalize(v);
        return v;
    }

    /// <summary>XᵀX (K × K) with <paramref name="transpose"/>, else XXᵀ (n × n).</summary>
    private static double[] Gram(double[] x, int rows, int columns, bool transpose)
    {
        int m = transpose ? columns : rows;
        var g = new double[m * m];
        for (int a = 0; a < m; a++)
            for (int b = a; b < m; b++)
            {
                double sum = 0;
                if (transpose) for (int i = 0; i < rows; i++) sum += x[i * columns + a] * x[i * columns + b];
                else for (int k = 0; k < columns; k++) sum += x[a * columns + k] * x[b * columns + k];
                g[a * m + b] = g[b * m + a] = sum;
            }
        return g;
    }

    /// <summary>The unit eigenvector of the symmetric positive semi-definite <paramref name="g"/> with the largest eigenvalue.</summary>
    private static double[] TopEigenvector(double[] g, int m)
    {
        // Start from the Gram matrix's largest column: not orthogonal to the top eigenvector unless G is degenerate.
        int start = 0;
        for (int j = 1; j < m; j++) if (g[j * m + j] > g[start * m + start]) start = j;
        var v = new double[m];
        for (int i = 0; i < m; i++) v[i] = g[i * m + start];
        if (!Normalize(v)) return v;
        var next = new double[m];
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            for (int i = 0; i < m; i++)
            {
                double sum = 0;
                for (int j = 0; j < m; j++) sum += g[i * m + j] * v[j];
                next[i] = sum;
            }
            if (!Normalize(next)) return next;
            double change = 0;
            for (int i = 0; i < m; i++) change = Math.Max(change, Math.Abs(next[i] - v[i]));
            (v, next) = (next, v);
            if (change < Tolerance) break;
        }
        return v;
    }

    private static bool Normalize(double[] v)
    {
        double norm = Math.Sqrt(v.Sum(e => e * e));
        if (norm == 0) return false;
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
        return true;
    }
}
