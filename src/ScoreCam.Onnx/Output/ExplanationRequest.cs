using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Output;

/// <summary>What to explain about an input: a target, and optionally the paper's counterfactual (eq. 7) or an FGSM attack first (section 5.4).</summary>
public sealed record ExplanationRequest
{
    public ExplanationTarget Target { get; init; } = ExplanationTarget.TopPrediction;
    /// <summary>Explain L_CE = ReLU(L^target − L^versus) (eq. 7) instead of the target's map.</summary>
    public bool Counterfactual { get; init; }
    /// <summary>The counterfactual's reference class; null: the most probable other class.</summary>
    public ExplanationTarget? Versus { get; init; }
    /// <summary>Explain an FGSM copy of the input with this step (picture units, [0, 1]) against the target class.</summary>
    public float? FgsmEpsilon { get; init; }
}
