namespace ScoreCam.Onnx.Metrics;

/// <summary>Spearman's rank correlation of two maps (Pearson correlation of their ranks; ties get the average rank).</summary>
internal static class RankCorrelation
{
    public static double Spearman(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("Maps must have the same number of values.", nameof(b));
        if (a.Length < 2) throw new ArgumentException("Rank correlation needs at least two values.", nameof(a));
        double[] ra = Ranks(a), rb = Ranks(b);
        double mean = (a.Length + 1) / 2.0, cov = 0, va = 0, vb = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            double da = ra[i] - mean, db = rb[i] - mean;
            cov += da * db;
            va += da * da;
            vb += db * db;
        }
        // A constant map has no ordering: it agrees with nothing.
        return va == 0 || vb == 0 ? 0 : cov / Math.Sqrt(va * vb);
    }

    private static double[] Ranks(ReadOnlySpan<float> values)
    {
        int n = values.Length;
        float[] copy = values.ToArray();
        int[] order = Enumerable.Range(0, n).ToArray();
        Array.Sort(copy, order);
        var ranks = new double[n];
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && copy[j + 1] == copy[i]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) ranks[order[t]] = rank;
            i = j + 1;
        }
        return ranks;
    }
}
