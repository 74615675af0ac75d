using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// The ONNX Runtime session of a <see cref="PreparedModel"/>: one full forward pass (scores and activations) and
/// batched score-only passes over caller-owned buffers. Owns its native session; <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// is thread-safe, so one instance serves concurrent callers.
/// </summary>
public sealed class ModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _scoreOutput;
    private readonly string[] _fullOutputs;
    private readonly int _outputRank;
    // Inputs per run of the unmasked forward pass: 1, or the batch size the model's export fixes (the image, then zeros).
    private readonly int _forwardBatch;
    // The fed inputs for that run, made once: the unmasked forward pass runs them with every call.
    private readonly OrtValue[] _singleFeeds;

    public ModelSession(PreparedModel model, InferenceOptions? options = null)
        : this(model, options?.Float16 == true ? Float16Model.Convert(model) : model.ToBytes(), options ?? new InferenceOptions()) { }

    /// <summary>A session of <paramref name="graph"/>, a copy of <paramref name="model"/> in another precision that outputs at least its scores.</summary>
    internal ModelSession(PreparedModel model, byte[] graph, InferenceOptions options)
    {
        Model = model;
        Options = options;
        var warnings = new List<string>();
        try
        {
            (_session, Device) = OrtSessionFactory.Create(graph, options, warnings, model.ExternalDataFolder);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException($"ONNX Runtime cannot load the model: {OrtRuntime.Describe(e)} Prepare it again from the original model, or re-export it.", e);
        }
        Warnings = warnings;
        // The image first, then the fed inputs in the order of Model.FedInputs (how batch scorers lay out their values).
        _inputNames = model.FedInputs.Select(f => f.Name).Prepend(model.Input.Name).ToArray();
        _forwardBatch = model.FixedBatchSize ?? 1;
        _singleFeeds = model.FedInputs.Select(f => OrtValue.CreateTensorValueFromMemory(f.Broadcast(_forwardBatch), f.Shape(_forwardBatch))).ToArray();
        _scoreOutput = new[] { model.OutputName };
        _fullOutputs = new[] { model.OutputName, model.Layer.MapsTensor };
        _outputRank = Math.Max(2, _session.OutputMetadata[model.OutputName].Dimensions.Length);
    }

    public PreparedModel Model { get; }

    /// <summary>The options the session was created with.</summary>
    public InferenceOptions Options { get; }

    /// <summary>The device the session actually runs on (CPU after a CUDA fallback).</summary>
    public ExecutionDevice Device { get; }

    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Full batches replay CUDA graphs: the session runs on CUDA with <see cref="InferenceOptions.CudaGraphs"/>.</summary>
    internal bool UsesCudaGraphs => Device == ExecutionDevice.Cuda && Options.CudaGraphs;

    /// <summary>
    /// One forward pass of a single image (padded with zero inputs to the batch size the model's export fixes): its
    /// score row and the target layer's activations (K×h×w).
    /// </summary>
    public (float[] Scores, float[] Activations, int Channels, int Height, int Width) Forward(ImageTensor image)
    {
        float[] data = image.Data;
        if (_forwardBatch > 1)
        {
            data = new float[_forwardBatch * image.Data.Length];
            image.Data.CopyTo(data, 0);
        }
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(), image.Shape(_forwardBatch));
        using RunOptions runOptions = RunOptions();
        using var outputs = Run(runOptions, input, _fullOutputs, image);
        long[] shape = outputs[1].GetTensorTypeAndShape().Shape;
        if (shape.Length != 4)
            throw new ScoreCamException($"The target layer '{Model.Layer.TensorName}' produced shape [{string.Join('x', shape)}]; a spatial map N×K×h×w is needed.");
        // The first row of each output is the image's; padding rows are dropped.
        ReadOnlySpan<float> scores = outputs[0].GetTensorDataAsSpan<float>(), activations = outputs[1].GetTensorDataAsSpan<float>();
        return (scores[..(scores.Length / _forwardBatch)].ToArray(), activations[..(activations.Length / _forwardBatch)].ToArray(),
            (int)shape[1], (int)shape[2], (int)shape[3]);
    }

    /// <summary>The score output's shape for a batch of <paramref name="count"/> (N×C, N×C×1×1 and the like, or N × the row's shape, e.g. a detector's N×(4+C)×P).</summary>
    internal long[] OutputShape(int count)
    {
        var shape = new long[_outputRank];
        shape[0] = count;
        if (Model.OutputShape.Count == _outputRank - 1)
        {
            for (int i = 1; i < shape.Length; i++) shape[i] = Model.OutputShape[i - 1];
            return shape;
        }
        shape[1] = Model.OutputSize;
        for (int i = 2; i < shape.Length; i++) shape[i] = 1;
        return shape;
    }

    internal void RunScores(RunOptions runOptions, OrtValue[] inputs, OrtValue[] outputs, ImageTensor template)
    {
        try
        {
            _session.Run(runOptions, _inputNames, inputs, _scoreOutput, outputs);
        }
        catch (OnnxRuntimeException e)
        {
            throw Rejected(template, e);
        }
    }

    /// <summary>Options for a run outside any CUDA graph (shapes or addresses that vary).</summary>
    internal RunOptions RunOptions()
    {
        var options = new RunOptions();
        if (UsesCudaGraphs) options.AddRunConfigEntry("gpu_graph_id", "-1");
        return options;
    }

    /// <summary>An allocator of the session device's memory (host memory on CPU).</summary>
    internal OrtAllocator DeviceAllocator() => new(_session, Device == ExecutionDevice.Cuda
        ? new OrtMemoryInfo("Cuda", OrtAllocatorType.DeviceAllocator, Options.CudaDeviceId, OrtMemType.Default)
        : OrtMemoryInfo.DefaultInstance);

    /// <summary>Binds a score-only run to fixed input, fed input (in <see cref="PreparedModel.FedInputs"/> order) and output tensors.</summary>
    internal OrtIoBinding Bind(OrtValue input, IReadOnlyList<OrtValue> feeds, OrtValue scores)
    {
        OrtIoBinding binding = _session.CreateIoBinding();
        binding.BindInput(_inputNames[0], input);
        for (int i = 0; i < feeds.Count; i++) binding.BindInput(_inputNames[i + 1], feeds[i]);
        binding.BindOutput(_scoreOutput[0], scores);
        return binding;
    }

    internal void RunBound(RunOptions runOptions, OrtIoBinding binding, ImageTensor template)
    {
        try
        {
            _session.RunWithBinding(runOptions, binding);
        }
        catch (OnnxRuntimeException e)
        {
            throw Rejected(template, e);
        }
    }

    private IDisposableReadOnlyCollection<OrtValue> Run(RunOptions runOptions, OrtValue input, string[] outputs, ImageTensor image)
    {
        try
        {
            return _session.Run(runOptions, _inputNames, _singleFeeds.Prepend(input).ToArray(), outputs);
        }
        catch (OnnxRuntimeException e)
        {
            throw Rejected(image, e);
        }
    }

    private ScoreCamException Rejected(ImageTensor image, OnnxRuntimeException e) => new(
        $"ONNX Runtime rejected a {image.Channels}x{image.Height}x{image.Width} input for model '{Model.Source}': {OrtRuntime.Describe(e)} " +
        "Check the input size and the preprocessing (PreprocessOptions) against what the model was exported with.", e);

    public void Dispose()
    {
        _session.Dispose();
        foreach (OrtValue feed in _singleFeeds) feed.Dispose();
    }
}
