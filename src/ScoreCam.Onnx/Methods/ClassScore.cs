namespace ScoreCam.Onnx.Methods;

/// <summary>A class's score: its probability (paper eq. 3) or its raw pre-softmax score, by <see cref="ScoreMode"/>.</summary>
internal sealed class ClassScore : ResolvedTarget
{
    private ClassScore(string name, int index, string? label) : base(name, index, label) => Index = index;

    public int Index { get; }

    public static ClassScore For(int index, TargetModel model)
    {
        string? label = model.LabelOf(index);
        return new ClassScore(label ?? $"class {index}", index, label);
    }

    public override float Score(TargetOutputs outputs, ScoreMode mode) =>
        mode == ScoreMode.RawScore ? outputs.Values[Index] : outputs.Probabilities[Index];

    public override void Derivative(TargetOutputs outputs, Span<float> seed)
    {
        seed.Clear();
        seed[Index] = 1f;
    }
}
