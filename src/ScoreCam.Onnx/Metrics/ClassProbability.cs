using System.Buffers;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The metrics' score: a class's probability (softmax of the logits, the output itself for a model ending in Softmax,
/// the sigmoid of a single-logit classifier; <see cref="ScoreMode.Probability"/>) for batched images.
/// </summary>
public static class ClassProbability
{
    /// <summary>Probabilities of <paramref name="classIndex"/> for <paramref name="count"/> images laid out in <paramref name="batch"/>.</summary>
    public static void Compute(ModelSession session, Memory<float> batch, int count, ImageTensor template, int classIndex, Span<float> destination)
    {
        int rowLength = session.Model.OutputSize;
        if (classIndex < 0 || classIndex >= rowLength)
            throw new ScoreCamException($"Class index {classIndex} is out of range: the model has {rowLength} outputs.");
        var pool = ArrayPool<float>.Shared;
        float[] scores = pool.Rent(count * rowLength), probabilities = pool.Rent(rowLength);
        try
        {
            session.Scores(batch, count, template, scores);
            for (int i = 0; i < count; i++)
            {
                ResolvedTarget.Probabilities(scores.AsSpan(i * rowLength, rowLength), session.Model.OutputKind, probabilities);
                destination[i] = probabilities[classIndex];
            }
        }
        finally
        {
            pool.Return(scores);
            pool.Return(probabilities);
        }
    }

    /// <summary>The probability of <paramref name="classIndex"/> on one image.</summary>
    public static float Of(ModelSession session, ImageTensor image, int classIndex)
    {
        Span<float> p = stackalloc float[1];
        Compute(session, image.Data.AsMemory(), 1, image, classIndex, p);
        return p[0];
    }
}
