namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// How the Softmax whose input a gradient graph's logits are groups an output row: it normalises each run of
/// <paramref name="Length"/> values <paramref name="Inner"/> apart (the whole row of a classifier: Length = the row's
/// size, Inner = 1; an N×T×V output over its vocabulary: Length = V, Inner = 1).
/// </summary>
internal sealed record SoftmaxAxis(int Length, int Inner)
{
    /// <summary>
    /// Back through the Softmax, in place: s ← p ⊙ (s − ⟨s, p⟩) over each group the Softmax normalises together (its
    /// vector-Jacobian product), for s = d score / d p and p the probabilities of the row.
    /// </summary>
    public void Backward(ReadOnlySpan<float> p, Span<float> s)
    {
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
}
