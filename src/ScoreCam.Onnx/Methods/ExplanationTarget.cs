namespace ScoreCam.Onnx.Methods;

/// <summary>A scalar function of one output row of the model: what a custom target explains.</summary>
public delegate float ScalarScore(ReadOnlySpan<float> outputs);

/// <summary>
/// What an explanation explains: a function from the model's outputs for an input to one score. This type is the
/// request (the top prediction, a class, a detection, ...); <see cref="Resolve"/> binds it to a model and the
/// unmasked pass, giving the <see cref="ResolvedTarget"/> that scores masked inputs and seeds gradient passes. A new
/// kind of target is one record deriving from this one.
/// </summary>
public abstract record ExplanationTarget
{
    /// <summary>For kinds of target outside this library.</summary>
    protected ExplanationTarget() { }

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

    /// <summary>
    /// Binds this target to <paramref name="model"/>'s model and unmasked output; refuses (with a
    /// <see cref="Core.ScoreCamException"/>) a target the model cannot score.
    /// </summary>
    public abstract ResolvedTarget Resolve(TargetModel model);
}
