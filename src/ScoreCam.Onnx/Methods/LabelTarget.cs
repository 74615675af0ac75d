using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>A class by its label in the model's labels file (case-insensitive).</summary>
internal sealed record LabelTarget(string Text) : ExplanationTarget
{
    public override ResolvedTarget Resolve(TargetModel model)
    {
        IReadOnlyList<string> labels = model.Labels
            ?? throw new ScoreCamException($"Target '{Text}' is a label, but the model has no labels file. Give the labels (ExplainerOptions.Labels) or a class index.");
        int index = labels.ToList().FindIndex(x => string.Equals(x, Text, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
            throw new ScoreCamException(
                $"Label '{Text}' is not among the model's {labels.Count} labels (e.g. {string.Join(", ", labels.Take(5).Select(x => $"'{x}'"))}). Pass a label from the labels file or a class index.");
        if (index >= model.Model.OutputSize)
            throw new ScoreCamException($"Label '{Text}' is line {index} of the labels file, but the model has only {model.Model.OutputSize} outputs: the labels file does not match the model.");
        return ClassScore.For(index, model);
    }
}
