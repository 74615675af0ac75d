using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// One picture, ε and method of an <see cref="FgsmSweep"/>: the (adversarial) input, the model's prediction on it and
/// the true class's probability, the explanation of the true class, its peak shift from the clean map (input
/// pixels), its energy-based pointing game on the true box, and the clean explanation's channel weights.
/// </summary>
public sealed record SweepPoint(AnnotatedInput Item, float Epsilon, string Method, ImageTensor Input, int Predicted, float TrueClassProbability,
    Explanation Explanation, double PeakShift, double EnergyInBox, float[] CleanWeights);
