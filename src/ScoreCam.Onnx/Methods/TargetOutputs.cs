using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The model's outputs for one item of a batch, as a target reads them: each output by name, with its shape after
/// the batch dimension. A pass holds the output the model was prepared to score (<see cref="Models.PreparedModel.OutputName"/>).
/// </summary>
public readonly ref struct TargetOutputs
{
    private readonly IReadOnlyList<int> _shape;

    internal TargetOutputs(string name, ReadOnlySpan<float> values, IReadOnlyList<int> shape, ReadOnlySpan<float> probabilities)
    {
        (Name, _shape) = (name, shape);
        Values = values;
        Probabilities = probabilities;
    }

    /// <summary>The name of the output the pass holds.</summary>
    public string Name { get; }
    /// <summary>Its values for this item, in C order.</summary>
    public ReadOnlySpan<float> Values { get; }
    /// <summary>Its shape after the batch dimension.</summary>
    public IReadOnlyList<int> Shape => _shape;
    /// <summary>
    /// Class probabilities of the output (<see cref="ScoreMode.Probability"/>: softmax of logits, the output of a
    /// Softmax, the sigmoid of one logit) when the pass is scored in that mode; empty otherwise.
    /// </summary>
    public ReadOnlySpan<float> Probabilities { get; }

    /// <summary>The values of output <paramref name="name"/>; refused when the pass does not hold that output.</summary>
    public ReadOnlySpan<float> this[string name] => name == Name ? Values
        : throw new ScoreCamException(
            $"The target reads output '{name}', but the model was prepared to score output '{Name}'. Prepare it with output '{name}' " +
            "(the output option of model preparation).");
}
