using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>A class by its index in the model's output row.</summary>
internal sealed record ClassTarget(int Index) : ExplanationTarget
{
    public override ResolvedTarget Resolve(TargetModel model)
    {
        int size = model.Model.OutputSize;
        if (Index < 0 || Index >= size)
            throw new ScoreCamException($"Class index {Index} is out of range: the model has {size} output{(size == 1 ? "" : "s")} (valid indices 0..{size - 1}).");
        return ClassScore.For(Index, model);
    }
}
