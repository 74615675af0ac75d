namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The explanation map restricted to its most salient pixels (Score-CAM paper, section 5.3: "50% of pixels are
/// mute"). The map (already normalized to [0, 1], as <see cref="Explanation.Heatmap"/>) keeps its values at or above
/// the median and is zero below it. The median is the ⌈n/2⌉-th largest value, so a map with distinct values keeps
/// exactly ⌈n/2⌉ pixels; ties at the median are all kept (a map with many equal values may keep more than half, a
/// constant map keeps everything).
/// </summary>
public static class TopSaliencyRegion
{
    public static void Restrict(ReadOnlySpan<float> map, Span<float> destination, double keep = 0.5)
    {
        if (destination.Length < map.Length) throw new ArgumentException("Destination is shorter than the map.", nameof(destination));
        if (!(keep > 0 && keep <= 1)) throw new ArgumentOutOfRangeException(nameof(keep), "Keep a share in (0, 1].");
        if (map.Length == 0) return;
        float threshold = Threshold(map, keep);
        for (int i = 0; i < map.Length; i++) destination[i] = map[i] >= threshold ? map[i] : 0f;
    }

    /// <summary>The ⌈keep·n⌉-th largest value of the map (the median for keep = 0.5).</summary>
    public static float Threshold(ReadOnlySpan<float> map, double keep = 0.5)
    {
        float[] sorted = map.ToArray();
        Array.Sort(sorted);
        int kept = Math.Max(1, (int)Math.Ceiling(keep * sorted.Length - 1e-9));
        return sorted[sorted.Length - kept];
    }
}
