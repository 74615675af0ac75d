namespace ScoreCam.Onnx.Methods;

/// <summary>Any scalar of the scored output's values, used as it is (no softmax); differentiated numerically.</summary>
internal sealed record CustomTarget(string Name, ScalarScore Score) : ExplanationTarget
{
    public override ResolvedTarget Resolve(TargetModel model) => new Scalar(Name, Score);

    private sealed class Scalar(string name, ScalarScore score) : ResolvedTarget(name)
    {
        public override float Score(TargetOutputs outputs, ScoreMode mode) => score(outputs.Values);
    }
}
