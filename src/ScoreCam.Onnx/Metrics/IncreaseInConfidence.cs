namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// Increase in Confidence (Score-CAM paper, section 5.3, after Chattopadhay et al.): the share of images, in percent,
/// whose softmax probability O on the explanation-masked input exceeds the probability Y on the input
/// (<see cref="ConfidenceChange"/>). Higher is better.
/// </summary>
public static class IncreaseInConfidence
{
    public static double Of(IEnumerable<ConfidenceChange> images)
    {
        int increased = 0, n = 0;
        foreach (ConfidenceChange c in images) { if (c.Increased) increased++; n++; }
        return n == 0 ? double.NaN : 100.0 * increased / n;
    }
}
