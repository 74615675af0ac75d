using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>Element <see cref="Index"/> of output <see cref="Output"/>, scored as a class is (paper eq. 8: a caption's next word).</summary>
internal sealed record OutputElementTarget(string Output, int Index) : ExplanationTarget
{
    public override ResolvedTarget Resolve(TargetModel model)
    {
        PreparedModel m = model.Model;
        if (Output != m.OutputName)
            throw new ScoreCamException(
                $"Target output '{Output}' is not the output model '{m.Source}' was prepared to score ('{m.OutputName}'). " +
                $"Prepare it with that output (ModelPreparationOptions.OutputName = \"{Output}\").");
        if (Index < 0 || Index >= m.OutputSize)
            throw new ScoreCamException(
                $"Index {Index} is out of range for output '{Output}', which holds {m.OutputSize} value{(m.OutputSize == 1 ? "" : "s")} per image (valid indices 0..{m.OutputSize - 1}).");
        return ClassScore.For(Index, model);
    }
}
