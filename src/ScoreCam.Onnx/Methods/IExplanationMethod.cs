namespace ScoreCam.Onnx.Methods;

/// <summary>
/// An explanation method. The explainer does the shared work once (the unmasked forward pass, probabilities,
/// targets, the display heatmap and the result); a method computes only what is its own, for every target of the
/// context, from the context's activations, batch runner and gradient sessions. CAM methods derive from
/// <see cref="CamMethod"/> (channel weights) or <see cref="GradientCamMethod"/>; pixel-space methods implement
/// this interface directly (RISE). Implementations must be thread-safe.
/// </summary>
public interface IExplanationMethod
{
    /// <summary>The method's name as the catalogue, the CLI and the JSON spell it.</summary>
    string Name { get; }

    /// <summary>The values of the options the method declares in the catalogue, as text by option name (empty when it has none): the JSON's <c>settings</c>.</summary>
    IReadOnlyDictionary<string, string> Settings => NoSettings;

    /// <summary>One result per target of <paramref name="context"/>, in the targets' order.</summary>
    IReadOnlyList<MethodResult> Explain(ExplanationContext context);

    private static readonly IReadOnlyDictionary<string, string> NoSettings = new Dictionary<string, string>();
}
