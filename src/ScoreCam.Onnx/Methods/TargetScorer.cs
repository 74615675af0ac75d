using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>Scores every target on output rows, computing each row's probabilities once. One per explanation call.</summary>
internal sealed class TargetScorer
{
    private readonly IReadOnlyList<ResolvedTarget> _targets;
    private readonly PreparedModel _model;
    private readonly float[] _probabilities;

    internal TargetScorer(IReadOnlyList<ResolvedTarget> targets, PreparedModel model)
    {
        (_targets, _model) = (targets, model);
        _probabilities = new float[model.OutputSize];
    }

    public int Count => _targets.Count;

    /// <summary>Writes the score of each target for <paramref name="row"/> into <paramref name="destination"/>.</summary>
    public void Score(ReadOnlySpan<float> row, ScoreMode mode, Span<float> destination)
    {
        if (mode == ScoreMode.Probability) ResolvedTarget.Probabilities(row, _model.OutputKind, _probabilities);
        var outputs = Outputs(_model, row, mode == ScoreMode.Probability ? _probabilities : default);
        for (int t = 0; t < _targets.Count; t++) destination[t] = _targets[t].Score(outputs, mode);
    }

    /// <summary>One item's outputs as targets read them.</summary>
    internal static TargetOutputs Outputs(PreparedModel model, ReadOnlySpan<float> row, ReadOnlySpan<float> probabilities = default) =>
        new(model.OutputName, row, model.OutputShape, probabilities);
}
