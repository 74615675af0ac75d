using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>How ONNX Runtime sessions are created.</summary>
public sealed record InferenceOptions
{
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;

    /// <summary>
    /// Inputs per ONNX Runtime call for the explainer's batched passes (Score-CAM's masked images, RISE's masks,
    /// deletion / insertion steps, gradient passes); null: chosen for the model by <see cref="BatchSizePolicy"/>
    /// within <see cref="MaxBatchMemoryBytes"/>.
    /// </summary>
    public int? BatchSize { get; init; }

    /// <summary>
    /// Memory budget for one batch's intermediate tensors when the batch size is chosen (weights and ONNX Runtime's
    /// arena slack come on top); null: <see cref="BatchSizePolicy.DefaultBudgetBytes"/>.
    /// </summary>
    public long? MaxBatchMemoryBytes { get; init; }

    /// <summary>Build the next batch while ONNX Runtime runs the current one (two batches of buffers).</summary>
    public bool Pipelined { get; init; } = true;

    /// <summary>CUDA device ordinal.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>Threads for one operator; 0 lets ONNX Runtime use one per physical core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>When CUDA cannot start (libraries missing, no GPU), run on CPU with a warning instead of failing.</summary>
    public bool FallBackToCpu { get; init; } = true;

    /// <summary>CUDA provider option <c>cudnn_conv_algo_search</c>: EXHAUSTIVE, HEURISTIC or DEFAULT.</summary>
    public string CudnnConvAlgoSearch { get; init; } = "HEURISTIC";

    /// <summary>CUDA provider option <c>arena_extend_strategy</c>: kNextPowerOfTwo or kSameAsRequested.</summary>
    public string CudaArenaExtendStrategy { get; init; } = "kNextPowerOfTwo";
}
