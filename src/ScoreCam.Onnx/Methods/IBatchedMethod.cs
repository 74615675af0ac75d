namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A method whose own work is one batched run of passes per input (Score-CAM's masked images, RISE's masks): the
/// explainer can run several inputs' passes in shared batches (<see cref="CamExplainer.ExplainMany"/>), with the
/// same results as explaining each input alone.
/// </summary>
internal interface IBatchedMethod : IExplanationMethod
{
    /// <summary>Prepares <paramref name="context"/>'s passes; the caller runs them, then calls <see cref="BatchedPasses.Finish"/>.</summary>
    BatchedPasses Begin(ExplanationContext context);
}
