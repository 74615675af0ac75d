using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>A target bound to a model: a class index or a custom scalar, with its display name.</summary>
internal sealed class ResolvedTarget
{
    private readonly ScalarScore? _custom;

    private ResolvedTarget(string name, int? classIndex, string? label, ScalarScore? custom) =>
        (Name, ClassIndex, Label, _custom) = (name, classIndex, label, custom);

    public string Name { get; }
    public int? ClassIndex { get; }
    public string? Label { get; }

    internal static ResolvedTarget Resolve(ExplanationTarget target, PreparedModel model, IReadOnlyList<string>? labels, ReadOnlySpan<float> unmaskedScores)
    {
        switch (target)
        {
            case ExplanationTarget.TopPredictionTarget:
                return ForClass(ArgMax(unmaskedScores), labels);
            case ExplanationTarget.ClassTarget c:
                if (c.Index < 0 || c.Index >= model.OutputSize)
                    throw new ScoreCamException(
                        $"Class index {c.Index} is out of range: the model has {model.OutputSize} output{(model.OutputSize == 1 ? "" : "s")} (valid indices 0..{model.OutputSize - 1}).");
                return ForClass(c.Index, labels);
            case ExplanationTarget.LabelTarget l:
                if (labels is null)
                    throw new ScoreCamException($"Target '{l.Text}' is a label, but the model has no labels file. Pass --labels FILE or a class index.");
                int index = labels.ToList().FindIndex(x => string.Equals(x, l.Text, StringComparison.OrdinalIgnoreCase));
                if (index < 0)
                    throw new ScoreCamException(
                        $"Label '{l.Text}' is not among the model's {labels.Count} labels (e.g. {string.Join(", ", labels.Take(5).Select(x => $"'{x}'"))}). Pass a label from the labels file or a class index.");
                if (index >= model.OutputSize)
                    throw new ScoreCamException($"Label '{l.Text}' is line {index} of the labels file, but the model has only {model.OutputSize} outputs: the labels file does not match the model.");
                return ForClass(index, labels);
            case ExplanationTarget.OutputElementTarget e:
                if (e.Output != model.OutputName)
                    throw new ScoreCamException(
                        $"Target output '{e.Output}' is not the output model '{model.Source}' was prepared to score ('{model.OutputName}'). " +
                        $"Prepare it with that output (--target-output {e.Output}; library: ModelPreparationOptions.OutputName).");
                if (e.Index < 0 || e.Index >= model.OutputSize)
                    throw new ScoreCamException(
                        $"Index {e.Index} is out of range for output '{e.Output}', which holds {model.OutputSize} value{(model.OutputSize == 1 ? "" : "s")} per image (valid indices 0..{model.OutputSize - 1}).");
                return ForClass(e.Index, labels);
            case ExplanationTarget.CustomTarget t:
                return new ResolvedTarget(t.Name, null, null, t.Score);
            default:
                throw new ArgumentOutOfRangeException(nameof(target));
        }
    }

    private static ResolvedTarget ForClass(int index, IReadOnlyList<string>? labels)
    {
        string? label = labels is not null && index < labels.Count ? labels[index] : null;
        return new ResolvedTarget(label ?? $"class {index}", index, label, null);
    }

    internal static int ArgMax(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);

    /// <summary>The target's score for one output row. <paramref name="probabilities"/> holds the row's class probabilities.</summary>
    internal float Score(ReadOnlySpan<float> row, ReadOnlySpan<float> probabilities, ScoreMode mode) =>
        _custom is not null ? _custom(row)
        : mode == ScoreMode.RawScore ? row[ClassIndex!.Value]
        : probabilities[ClassIndex!.Value];

    /// <summary>Class probabilities of one output row, as <see cref="ScoreMode.Probability"/> defines them.</summary>
    internal static void Probabilities(ReadOnlySpan<float> row, ModelOutputKind kind, Span<float> destination)
    {
        switch (kind)
        {
            case ModelOutputKind.Probabilities: row.CopyTo(destination); break;
            case ModelOutputKind.SingleLogit: destination[0] = MapKernels.Sigmoid(row[0]); break;
            default: MapKernels.Softmax(row, destination); break; // paper eq. 3
        }
    }
}
