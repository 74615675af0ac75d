using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>Scores every target on output rows, computing each row's probabilities once. One per explanation call.</summary>
internal sealed class TargetScorer
{
    private readonly IReadOnlyList<ResolvedTarget> _targets;
    private readonly ModelOutputKind _kind;
    private readonly float[] _probabilities;

    internal TargetScorer(IReadOnlyList<ResolvedTarget> targets, ModelOutputKind kind, int rowLength)
    {
        (_targets, _kind) = (targets, kind);
        _probabilities = new float[rowLength];
    }

    public int Count => _targets.Count;

    /// <summary>Writes the score of each target for <paramref name="row"/> into <paramref name="destination"/>.</summary>
    public void Score(ReadOnlySpan<float> row, ScoreMode mode, Span<float> destination)
    {
        if (mode == ScoreMode.Probability) ResolvedTarget.Probabilities(row, _kind, _probabilities);
        for (int t = 0; t < _targets.Count; t++) destination[t] = _targets[t].Score(row, _probabilities, mode);
    }
}
