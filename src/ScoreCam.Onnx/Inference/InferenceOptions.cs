using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>How ONNX Runtime sessions are created.</summary>
public sealed record InferenceOptions
{
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;

    /// <summary>
    /// Inputs per ONNX Runtime call for the explainer's batched passes (Score-CAM's masked images, RISE's masks,
    /// deletion / insertion steps, gradient passes); null: chosen for the model by <see cref="BatchSizePolicy"/>
    /// within <see cref="MaxBatchMemoryBytes"/>. A model whose export fixes its batch size runs that size instead, and
    /// <see cref="BatchSizeChoice.Reason"/> says so.
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

    /// <summary>
    /// CUDA provider option <c>use_tf32</c>: let float32 convolutions and matrix products use TF32 tensor cores
    /// (10-bit mantissa products, float32 accumulation) on GPUs that have them.
    /// </summary>
    public bool CudaTf32 { get; init; } = true;

    /// <summary>CUDA provider option <c>cudnn_conv_use_max_workspace</c>: give cuDNN's algorithm search the largest workspace.</summary>
    public bool CudnnMaxWorkspace { get; init; } = true;

    /// <summary>
    /// CUDA provider option <c>enable_cuda_graph</c>: record full batches once as a CUDA graph and replay it. Needs
    /// <see cref="DeviceResidentBuffers"/> (fixed device addresses); the last, partial batch of a run runs without it.
    /// </summary>
    public bool CudaGraphs { get; init; }

    /// <summary>
    /// Full batches' input and output tensors live in the session device's memory, allocated and bound once (ONNX
    /// Runtime's IOBinding); each batch copies its inputs there and its score rows back. On CPU the same path runs
    /// (device memory is host memory), which is how it is tested without a GPU.
    /// </summary>
    public bool DeviceResidentBuffers { get; init; }

    /// <summary>
    /// Run the model in float16: the library makes a float16 copy of the prepared model (inputs cast in the graph,
    /// outputs cast back to float32). For GPUs; ONNX Runtime's CPU provider runs it, slowly, through float32 kernels.
    /// Gradient methods keep their float32 graphs.
    /// </summary>
    public bool Float16 { get; init; }

    /// <summary>
    /// Run the batched passes (Score-CAM's and RISE's masked images, the metrics' passes) on an int8 QDQ copy of the
    /// model, calibrated as these options say, on ONNX Runtime's CPU int8 kernels; null: float32. The unmasked pass
    /// (the prediction and the activations the maps are made of) and every gradient graph stay float32.
    /// </summary>
    public Int8Options? Int8 { get; init; }
}
