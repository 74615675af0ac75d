namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// Average Drop (Score-CAM paper, section 5.3, after Chattopadhay et al.): the mean over images of
/// max(0, Y − O) / Y × 100, in percent, with Y and O softmax probabilities as <see cref="ConfidenceChange"/> defines
/// them. Lower is better.
/// </summary>
public static class AverageDrop
{
    public static double Of(IEnumerable<ConfidenceChange> images)
    {
        double sum = 0;
        int n = 0;
        foreach (ConfidenceChange c in images) { sum += c.Drop; n++; }
        return n == 0 ? double.NaN : sum / n;
    }
}
