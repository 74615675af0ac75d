using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// Creates ONNX Runtime sessions from the full <see cref="InferenceOptions"/>: the CUDA provider with its device id
/// and cuDNN, arena, TF32 and CUDA-graph options, the intra-op thread count, full graph optimisation, ONNX Runtime's logging kept off
/// stderr and the model's external data folder (<see cref="OrtRuntime"/>), and, when CUDA cannot start and falling back
/// is allowed, a CPU session with a warning (never a silent fallback).
/// </summary>
internal static class OrtSessionFactory
{
    /// <summary>A session for <paramref name="model"/> and the device it actually runs on; fallback warnings are added to <paramref name="warnings"/>.</summary>
    public static (InferenceSession Session, ExecutionDevice Device) Create(byte[] model, InferenceOptions options, List<string> warnings,
        string? externalDataFolder = null)
    {
        if (options.Device == ExecutionDevice.Cuda)
        {
            try
            {
                using var cudaOptions = BaseOptions(options, externalDataFolder);
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string>
                {
                    ["device_id"] = options.CudaDeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["cudnn_conv_algo_search"] = options.CudnnConvAlgoSearch,
                    ["arena_extend_strategy"] = options.CudaArenaExtendStrategy,
                    ["use_tf32"] = options.CudaTf32 ? "1" : "0",
                    ["cudnn_conv_use_max_workspace"] = options.CudnnMaxWorkspace ? "1" : "0",
                    ["enable_cuda_graph"] = options.CudaGraphs ? "1" : "0",
                });
                cudaOptions.AppendExecutionProvider_CUDA(cuda);
                return (new InferenceSession(model, cudaOptions), ExecutionDevice.Cuda);
            }
            catch (Exception e) when (options.FallBackToCpu && e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                warnings.Add($"CUDA is not available ({FirstLine(e.Message)}); running on CPU instead.");
            }
        }
        using var cpu = BaseOptions(options, externalDataFolder);
        return (new InferenceSession(model, cpu), ExecutionDevice.Cpu);
    }

    private static SessionOptions BaseOptions(InferenceOptions options, string? externalDataFolder)
    {
        SessionOptions o = OrtRuntime.Options(externalDataFolder);
        o.IntraOpNumThreads = options.IntraOpThreads;
        o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        return o;
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
