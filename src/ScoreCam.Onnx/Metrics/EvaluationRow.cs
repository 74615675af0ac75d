namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// One explanation of an evaluation: image, method, explained class, the model's top class, whether the row counts
/// as correctly classified (<see cref="EvaluationProtocol"/>), the metric values (NaN: not applicable) and the
/// explanation's time.
/// </summary>
public sealed record EvaluationRow(string Image, string Method, int Class, string Label, int Predicted, bool Correct,
    IReadOnlyDictionary<string, double> Metrics, double Seconds)
{
    /// <summary>The key rows are cached and resumed by.</summary>
    public string Key => KeyOf(Image, Method, Class);

    public static string KeyOf(string image, string method, int classIndex) => $"{image}\u0001{method}\u0001{classIndex}";
}
