using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A target bound to a model (<see cref="ExplanationTarget.Resolve"/>): it turns the outputs of each item of a batch
/// into one score (what forward-only methods weigh masked inputs by) and gives that score's derivative with respect
/// to the outputs (the seed of gradient passes). Stateless after resolution, so one instance scores items of
/// concurrent batches.
/// </summary>
public abstract class ResolvedTarget
{
    protected ResolvedTarget(string name, int? classIndex = null, string? label = null) =>
        (Name, ClassIndex, Label) = (name, classIndex, label);

    /// <summary>What the explanation explains, for people (a label, "class 3", "person 0.91 at 10,20,50,80").</summary>
    public string Name { get; }
    /// <summary>The class whose score this is, for class targets (its gradient seed is one-hot on the graph's pre-softmax scores).</summary>
    public int? ClassIndex { get; }
    public string? Label { get; }

    /// <summary>The score of one item. <paramref name="mode"/> says how a class's score is read; kinds without classes ignore it.</summary>
    public abstract float Score(TargetOutputs outputs, ScoreMode mode);

    /// <summary>
    /// d Score(<paramref name="outputs"/>, <see cref="ScoreMode.RawScore"/>) / d outputs, over the whole output the pass
    /// holds (<see cref="TargetOutputs.Values"/>), into <paramref name="seed"/> (same length). By default central
    /// differences; a kind with an analytic derivative overrides this.
    /// </summary>
    public virtual void Derivative(TargetOutputs outputs, Span<float> seed)
    {
        ReadOnlySpan<float> row = outputs.Values;
        float[] probe = row.ToArray();
        // The score is a float: a step of 1% of the row's largest entry keeps its rounding (ulp / 2h) far below the
        // gradient while the central difference's O(h²) error stays small for smooth scores (cosine similarity).
        float h = 1e-2f * Math.Max(1e-3f, System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row));
        for (int j = 0; j < row.Length; j++)
        {
            probe[j] = row[j] + h;
            double up = Score(new TargetOutputs(outputs.Name, probe, outputs.Shape, default), ScoreMode.RawScore);
            probe[j] = row[j] - h;
            double down = Score(new TargetOutputs(outputs.Name, probe, outputs.Shape, default), ScoreMode.RawScore);
            probe[j] = row[j];
            seed[j] = (float)((up - down) / ((double)(row[j] + h) - (row[j] - h)));
        }
    }

    public override string ToString() => Name;

    internal static int ArgMax(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);

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
