using ScoreCam.Onnx.Inference;

namespace ScoreCam.Onnx.Jobs;

/// <summary>How an <see cref="ExplanationWorker"/> takes and runs items.</summary>
public sealed record WorkerOptions
{
    public QueuePolicy Queue { get; init; } = new();
    /// <summary>Items pulled at once; those of one model, spec and method are explained in shared batches.</summary>
    public int Prefetch { get; init; } = 8;
    /// <summary>A folder that keeps fetched models (by content key) across restarts; null keeps them in memory only.</summary>
    public string? ModelCache { get; init; }
    /// <summary>Device, threads and batch size of the explainers the worker builds.</summary>
    public InferenceOptions Inference { get; init; } = new();
    /// <summary>Explainers (one per model and preprocessing) kept open between items.</summary>
    public int CachedExplainers { get; init; } = 2;
}
