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

    /// <summary>One result per target of <paramref name="context"/>, in the targets' order.</summary>
    IReadOnlyList<MethodResult> Explain(ExplanationContext context);
}
