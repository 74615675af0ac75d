using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// How the Softmax whose input a gradient graph's logits are groups an output row: it normalises each run of
/// <paramref name="Length"/> values <paramref name="Inner"/> apart (the whole row of a classifier: Length = the row's
/// size, Inner = 1; an N×T×V output over its vocabulary: Length = V, Inner = 1). A <see cref="Refused"/> grouping
/// stands for a row that does not hold whole groups (a Gather or Slice kept some of each): the logits still give
/// each element's pre-softmax score, but going back through the Softmax needs the values the row left out.
/// </summary>
internal sealed record SoftmaxAxis(int Length, int Inner)
{
    /// <summary>Why the row's probabilities cannot be differentiated through the Softmax; null for a usable grouping.</summary>
    public string? Refusal { get; private init; }

    /// <summary>A grouping that refuses every use with <paramref name="why"/> (a sentence naming the node and the remedy).</summary>
    public static SoftmaxAxis Refused(string why) => new(0, 0) { Refusal = why };

    /// <summary>
    /// Back through the Softmax, in place: s ← p ⊙ (s − ⟨s, p⟩) over each group the Softmax normalises together (its
    /// vector-Jacobian product), for s = d score / d p and p the probabilities of the row.
    /// </summary>
    public void Backward(ReadOnlySpan<float> p, Span<float> s)
    {
        ThrowIfRefused();
        int block = Length * Inner;
        for (int start = 0; start + block <= p.Length; start += block)
            for (int i = 0; i < Inner; i++)
            {
                double dot = 0;
                for (int a = 0; a < Length; a++) dot += (double)s[start + a * Inner + i] * p[start + a * Inner + i];
                for (int a = 0; a < Length; a++)
                {
                    int j = start + a * Inner + i;
                    s[j] = (float)(p[j] * (s[j] - dot));
                }
            }
    }

    /// <summary>The positions in the row of the values normalised together with position <paramref name="j"/> (itself included).</summary>
    public IEnumerable<int> GroupOf(int j)
    {
        ThrowIfRefused();
        int block = Length * Inner, first = j / block * block + j % Inner;
        return Enumerable.Range(0, Length).Select(a => first + a * Inner);
    }

    private void ThrowIfRefused()
    {
        if (Refusal is not null) throw new ScoreCamException(Refusal);
    }
}
