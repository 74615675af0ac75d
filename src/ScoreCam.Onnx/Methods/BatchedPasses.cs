namespace ScoreCam.Onnx.Methods;

/// <summary>
/// One input's batched passes of an <see cref="IBatchedMethod"/>, begun and not yet finished: the items to run
/// (<see cref="Count"/>, <see cref="Write"/>, <see cref="Read"/>, on the contract of
/// <see cref="Inference.IBatchRunner"/>), then <see cref="Finish"/> makes the results from the rows read. Single-use,
/// not thread-safe; disposing returns its pooled buffers.
/// </summary>
internal abstract class BatchedPasses : IDisposable
{
    /// <summary>Items to run (masked inputs).</summary>
    public abstract int Count { get; }

    /// <summary>Writes item <paramref name="item"/>'s input; false leaves it out (a skipped channel).</summary>
    public abstract bool Write(int item, Span<float> input);

    /// <summary>Receives item <paramref name="item"/>'s output row.</summary>
    public abstract void Read(int item, ReadOnlySpan<float> row);

    /// <summary>One result per target, once every item has been run and read.</summary>
    public abstract IReadOnlyList<MethodResult> Finish();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}
