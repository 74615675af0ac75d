using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// The ONNX Runtime session of a <see cref="GradientGraph"/>: for activations A (N×K×h×w) and seeds (N×C) it
/// returns the logits and dΣ(seed ⊙ logits)/dA. Owns its native session; thread-safe.
/// </summary>
public sealed class GradientSession : IDisposable
{
    private static readonly string[] Inputs = { GradientGraph.ActivationsInput, GradientGraph.SeedInput };
    private static readonly string[] Outputs = { GradientGraph.LogitsOutput, GradientGraph.GradientOutput };
    private readonly InferenceSession _session;

    /// <summary>Runs the model's gradient graph: NAME.grad.onnx next to the model when present, else built in memory.</summary>
    public GradientSession(PreparedModel model, InferenceOptions? options = null)
        : this(GradientGraph.Load(model), model.Layer.Channels, model.Layer.Height, model.Layer.Width, model.OutputSize, options)
    {
    }

    public GradientSession(byte[] gradientGraph, int channels, int height, int width, int outputSize, InferenceOptions? options = null)
    {
        (Channels, Height, Width, OutputSize) = (channels, height, width, outputSize);
        options ??= new InferenceOptions();
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (options.Device == ExecutionDevice.Cuda)
        {
            try { sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId); }
            catch (Exception e) when (options.FallBackToCpu && e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException) { }
        }
        try
        {
            _session = new InferenceSession(gradientGraph, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException($"ONNX Runtime rejected the gradient graph: {e.Message} Delete NAME.grad.onnx and prepare the model again.", e);
        }
    }

    /// <summary>True when the model outputs probabilities and the graph's logits are the Softmax's input.</summary>
    public bool PreSoftmax => _session.ModelMetadata.CustomMetadataMap.TryGetValue(GradientGraph.PreSoftmaxKey, out string? v) && v == "true";

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int OutputSize { get; }

    /// <summary>
    /// Logits (count×C) and gradients (count×K×h×w) for <paramref name="count"/> activation tensors laid out one after
    /// another in <paramref name="activations"/>, with one seed row each in <paramref name="seeds"/>.
    /// </summary>
    public (float[] Logits, float[] Gradients) Run(ReadOnlyMemory<float> activations, ReadOnlyMemory<float> seeds, int count = 1)
    {
        long plane = (long)Channels * Height * Width;
        if (activations.Length != count * plane)
            throw new ArgumentException($"Expected {count}×{Channels}×{Height}×{Width} activations; got {activations.Length} values.", nameof(activations));
        if (seeds.Length != count * OutputSize)
            throw new ArgumentException($"Expected {count}×{OutputSize} seed values; got {seeds.Length}.", nameof(seeds));
        using var a = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, AsWritable(activations), new long[] { count, Channels, Height, Width });
        using var s = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, AsWritable(seeds), new long[] { count, OutputSize });
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, Inputs, new[] { a, s }, Outputs);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    // ORT reads inputs only; its API takes Memory<T>.
    private static Memory<float> AsWritable(ReadOnlyMemory<float> memory) => System.Runtime.InteropServices.MemoryMarshal.AsMemory(memory);

    public void Dispose() => _session.Dispose();
}
