namespace ScoreCam.Onnx.Methods;

/// <summary>The class the model predicts for the unmasked input.</summary>
internal sealed record TopPredictionTarget : ExplanationTarget
{
    public override ResolvedTarget Resolve(TargetModel model) => ClassScore.For(ResolvedTarget.ArgMax(model.UnmaskedOutput), model);
}
