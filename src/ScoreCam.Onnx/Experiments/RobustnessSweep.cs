namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// Robustness under attack (paper section 5.4.1, Fig. 11), per ε and method, mean over the pictures of an
/// <see cref="FgsmSweep"/>: how often the model still predicts the true class, the true class's probability, how far
/// the map's peak moves from the clean map's (input pixels), and the energy-based pointing game on the true box.
/// </summary>
public static class RobustnessSweep
{
    public static List<RobustnessRow> Summarize(IReadOnlyList<SweepPoint> points) =>
        points.GroupBy(p => (p.Epsilon, p.Method)).Select(g => new RobustnessRow(g.Key.Epsilon, g.Key.Method, g.Count(),
            g.Average(p => p.Predicted == p.Item.TrueClass ? 1.0 : 0.0), g.Average(p => (double)p.TrueClassProbability),
            g.Average(p => p.PeakShift), g.Average(p => p.EnergyInBox))).ToList();
}

/// <summary>One ε and method of <see cref="RobustnessSweep.Summarize"/>.</summary>
public sealed record RobustnessRow(float Epsilon, string Method, int Images, double StillCorrect, double TrueClassProbability, double PeakShift,
    double EnergyInBox);
