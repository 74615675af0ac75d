using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The metrics' score: a class's probability (softmax of the logits, the output itself for a model ending in Softmax,
/// the sigmoid of a single-logit classifier; <see cref="ScoreMode.Probability"/>) for batched images.
/// </summary>
public static class ClassProbability
{
    /// <summary>
    /// Probabilities of <paramref name="classIndex"/> for <paramref name="count"/> images shaped like
    /// <paramref name="template"/>, each written by <paramref name="write"/> (in order) and run through <paramref name="runner"/>.
    /// </summary>
    public static void Compute(IBatchRunner runner, ImageTensor template, int count, BatchInputWriter write, int classIndex, Span<float> destination,
        CancellationToken cancellationToken = default)
    {
        int rowLength = runner.OutputSize;
        if (classIndex < 0 || classIndex >= rowLength)
            throw new ScoreCamException($"Class index {classIndex} is out of range: the model has {rowLength} outputs.");
        var probabilities = new float[rowLength];
        var result = new float[count];
        runner.Run(template, count, write, (item, row) =>
        {
            ResolvedTarget.Probabilities(row, runner.OutputKind, probabilities);
            result[item] = probabilities[classIndex];
        }, cancellationToken: cancellationToken);
        result.CopyTo(destination);
    }

    /// <summary>The probability of <paramref name="classIndex"/> on one image.</summary>
    public static float Of(IBatchRunner runner, ImageTensor image, int classIndex)
    {
        Span<float> p = stackalloc float[1];
        Compute(runner, image, 1, (_, input) => { image.Data.CopyTo(input); return true; }, classIndex, p);
        return p[0];
    }
}
