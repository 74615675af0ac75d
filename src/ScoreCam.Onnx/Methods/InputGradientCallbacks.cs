namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Writes input <paramref name="item"/> (C×H×W, the explained input's shape) of a run of input-gradient passes
/// (<see cref="ExplanationContext.InputGradients(int, int, bool, GradientInputWriter, GradientReader)"/>), called in
/// item order.
/// </summary>
public delegate void GradientInputWriter(int item, Span<float> input);

/// <summary>
/// Receives input <paramref name="item"/>'s gradient dY/dx (C×H×W) and its score Y, in item order; the span is a
/// reused batch buffer, valid only during the call.
/// </summary>
public delegate void GradientReader(int item, ReadOnlySpan<float> gradient, float score);
