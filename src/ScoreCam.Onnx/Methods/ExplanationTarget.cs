namespace ScoreCam.Onnx.Methods;

/// <summary>A scalar function of one output row of the model: what a custom target explains.</summary>
public delegate float ScalarScore(ReadOnlySpan<float> outputs);

/// <summary>
/// What an explanation explains: the top prediction, a class (by index or label), or any scalar function of the
/// model's outputs (for models without a class head, e.g. the similarity of an embedding to a reference).
/// </summary>
public abstract record ExplanationTarget
{
    private ExplanationTarget() { }

    /// <summary>The class the model predicts for the unmasked input (the default).</summary>
    public static ExplanationTarget TopPrediction { get; } = new TopPredictionTarget();

    public static ExplanationTarget Class(int index) => new ClassTarget(index);

    /// <summary>A class by its label in the model's labels file (case-insensitive).</summary>
    public static ExplanationTarget Label(string label) => new LabelTarget(label);

    /// <summary>
    /// Element <paramref name="index"/> (in C order, after the batch dimension) of the model output named
    /// <paramref name="output"/>, such as the next word s_k of a caption model (paper eq. 8); the model must be prepared
    /// with that output as its score output (<see cref="Models.ModelPreparationOptions.OutputName"/>). Scored as a
    /// class is: with <see cref="ScoreMode.Probability"/> the softmax over that output at the index (the output itself
    /// when the graph ends in Softmax), with <see cref="ScoreMode.RawScore"/> the output's value at the index.
    /// </summary>
    public static ExplanationTarget OutputElement(string output, int index) => new OutputElementTarget(output, index);

    /// <summary>Any scalar of the output row; used as it is (no softmax), so it must be comparable across inputs.</summary>
    public static ExplanationTarget Custom(string name, ScalarScore score) => new CustomTarget(name, score);

    /// <summary>Parses a command-line value: an integer is a class index, anything else a label.</summary>
    public static ExplanationTarget Parse(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int index)
            ? Class(index) : Label(text);

    internal sealed record TopPredictionTarget : ExplanationTarget;
    internal sealed record ClassTarget(int Index) : ExplanationTarget;
    internal sealed record LabelTarget(string Text) : ExplanationTarget;
    internal sealed record OutputElementTarget(string Output, int Index) : ExplanationTarget;
    internal sealed record CustomTarget(string Name, ScalarScore Score) : ExplanationTarget;
}
