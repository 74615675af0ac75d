using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// A reusable batch of model inputs and score outputs over pooled, pinned memory, bound once to ONNX Runtime
/// values: full batches run with no managed allocation. Callers fill <see cref="Input"/> slots, call
/// <see cref="Run"/>, and read <see cref="Scores"/>. With <see cref="InferenceOptions.DeviceResidentBuffers"/>, full
/// batches run on device tensors allocated and bound once (IOBinding): the inputs are copied there before the run and
/// the score rows back after it; the fixed addresses let CUDA graphs replay (<see cref="InferenceOptions.CudaGraphs"/>,
/// one graph per scorer). A model whose export fixes its batch size runs full batches only: a partial batch's empty
/// slots are zeros whose rows nobody reads. Not thread-safe; use one per concurrent pipeline stage.
/// </summary>
internal sealed class BatchScorer : IDisposable
{
    private readonly ModelSession _session;
    private readonly ImageTensor _template;
    private readonly float[] _input, _output;
    private readonly int _imageLength, _rowLength;
    private readonly bool _padded;
    private readonly OrtValue _fullInput, _fullOutput;
    // The fed inputs' rows repeated over a full batch, and values over them (a partial batch takes its leading rows).
    private readonly float[][] _feedData;
    private readonly OrtValue[] _fullFeeds;
    private readonly OrtValue[] _inputs, _outputs;
    private readonly RunOptions _runOptions = new(), _partialRunOptions;
    private readonly DeviceBuffers? _device;

    public BatchScorer(ModelSession session, ImageTensor template, int capacity) : this(session, template, capacity, graphId: 0) { }

    /// <summary>A scorer whose full batches record and replay CUDA graph <paramref name="graphId"/> (≥ 1, unique per live scorer) when CUDA graphs are on.</summary>
    internal BatchScorer(ModelSession session, ImageTensor template, int capacity, int graphId)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "Batch capacity must be at least 1.");
        if (session.Model.FixedBatchSize is { } size && capacity != size)
            throw new ArgumentOutOfRangeException(nameof(capacity),
                $"Model '{session.Model.Source}' runs exactly {size} inputs a call (its export fixes the batch size); a batch of {capacity} cannot run.");
        (_session, _template, _padded) = (session, template, session.Model.FixedBatchSize is not null);
        Capacity = capacity;
        _imageLength = template.Data.Length;
        _rowLength = session.Model.OutputSize;
        _input = ArrayPool<float>.Shared.Rent(Capacity * _imageLength);
        _output = ArrayPool<float>.Shared.Rent(Capacity * _rowLength);
        _fullInput = InputValue(Capacity);
        _fullOutput = OutputValue(Capacity);
        _feedData = session.Model.FedInputs.Select(f => f.Broadcast(Capacity)).ToArray();
        _fullFeeds = FeedValues(Capacity);
        _inputs = _fullFeeds.Prepend(_fullInput).ToArray();
        _outputs = new[] { _fullOutput };
        _partialRunOptions = session.RunOptions();
        if (session.UsesCudaGraphs && graphId > 0)
            _runOptions.AddRunConfigEntry("gpu_graph_id", graphId.ToString(CultureInfo.InvariantCulture));
        else if (session.UsesCudaGraphs)
            _runOptions.AddRunConfigEntry("gpu_graph_id", "-1");
        if (session.Options.DeviceResidentBuffers)
            _device = new DeviceBuffers(session, _input.AsMemory(0, Capacity * _imageLength), _output.AsMemory(0, Capacity * _rowLength),
                template.Shape(Capacity), session.OutputShape(Capacity), _feedData, Capacity);
    }

    public int Capacity { get; }

    /// <summary>Whether inputs shaped like <paramref name="template"/> fit this scorer's slots.</summary>
    internal bool Fits(ImageTensor template) =>
        template.Channels == _template.Channels && template.Height == _template.Height && template.Width == _template.Width;

    /// <summary>Where image <paramref name="slot"/> of the batch is written (C×H×W floats).</summary>
    public Span<float> Input(int slot) => _input.AsSpan(slot * _imageLength, _imageLength);

    /// <summary>The output row of image <paramref name="slot"/> after <see cref="Run"/>.</summary>
    public ReadOnlySpan<float> Scores(int slot) => _output.AsSpan(slot * _rowLength, _rowLength);

    /// <summary>Runs the first <paramref name="count"/> slots through the model (all of them, the rest zeroed, for a fixed batch size).</summary>
    public void Run(int count)
    {
        if (count < 1 || count > Capacity) throw new ArgumentOutOfRangeException(nameof(count));
        if (_padded) _input.AsSpan(count * _imageLength, (Capacity - count) * _imageLength).Clear();
        if (count == Capacity || _padded)
        {
            if (_device is not null) _device.Run(_session, _runOptions, _template);
            else _session.RunScores(_runOptions, _inputs, _outputs, _template);
            return;
        }
        // A last, partial batch: values over the leading slots (a few small objects, once per explanation).
        using OrtValue input = InputValue(count), output = OutputValue(count);
        OrtValue[] feeds = FeedValues(count);
        try
        {
            _session.RunScores(_partialRunOptions, feeds.Prepend(input).ToArray(), new[] { output }, _template);
        }
        finally
        {
            foreach (OrtValue feed in feeds) feed.Dispose();
        }
    }

    private OrtValue[] FeedValues(int count)
    {
        var feeds = _session.Model.FedInputs;
        var values = new OrtValue[feeds.Count];
        for (int i = 0; i < values.Length; i++)
            values[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _feedData[i].AsMemory(0, count * feeds[i].Row.Length), feeds[i].Shape(count));
        return values;
    }

    private OrtValue InputValue(int count) => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
        _input.AsMemory(0, count * _imageLength), _template.Shape(count));

    private OrtValue OutputValue(int count)
    {
        long[] shape = _session.OutputShape(count);
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(0, count * _rowLength), shape);
    }

    public void Dispose()
    {
        _device?.Dispose();
        _fullInput.Dispose();
        _fullOutput.Dispose();
        foreach (OrtValue feed in _fullFeeds) feed.Dispose();
        _runOptions.Dispose();
        _partialRunOptions.Dispose();
        ArrayPool<float>.Shared.Return(_input);
        ArrayPool<float>.Shared.Return(_output);
    }

    /// <summary>A full batch's input and output tensors in the session device's memory, bound once.</summary>
    private sealed class DeviceBuffers : IDisposable
    {
        private readonly bool _cuda;
        private readonly OrtAllocator _allocator;
        private readonly OrtValue _input, _output;
        private readonly OrtValue[] _feeds;
        private readonly OrtIoBinding _binding;
        private readonly Memory<float> _hostInput, _hostOutput;

        public DeviceBuffers(ModelSession session, Memory<float> hostInput, Memory<float> hostOutput, long[] inputShape, long[] outputShape,
            float[][] feedData, int capacity)
        {
            (_cuda, _hostInput, _hostOutput) = (session.Device == ExecutionDevice.Cuda, hostInput, hostOutput);
            _allocator = session.DeviceAllocator();
            _input = OrtValue.CreateAllocatedTensorValue(_allocator, TensorElementType.Float, inputShape);
            _output = OrtValue.CreateAllocatedTensorValue(_allocator, TensorElementType.Float, outputShape);
            // Fed inputs never change: copied to the device once, where every batch (and a CUDA graph's replay) reads them.
            var fed = session.Model.FedInputs;
            _feeds = new OrtValue[fed.Count];
            for (int i = 0; i < _feeds.Length; i++)
            {
                _feeds[i] = OrtValue.CreateAllocatedTensorValue(_allocator, TensorElementType.Float, fed[i].Shape(capacity));
                if (_cuda) CudaRuntime.HostToDevice(Address(_feeds[i]), feedData[i]);
                else feedData[i].CopyTo(_feeds[i].GetTensorMutableDataAsSpan<float>());
            }
            _binding = session.Bind(_input, _feeds, _output);
        }

        public void Run(ModelSession session, RunOptions runOptions, ImageTensor template)
        {
            if (_cuda) CudaRuntime.HostToDevice(Address(_input), _hostInput.Span);
            else _hostInput.Span.CopyTo(_input.GetTensorMutableDataAsSpan<float>());
            session.RunBound(runOptions, _binding, template);
            if (_cuda) CudaRuntime.DeviceToHost(_hostOutput.Span, Address(_output));
            else _output.GetTensorDataAsSpan<float>().CopyTo(_hostOutput.Span);
        }

        /// <summary>The device address of a tensor (never dereferenced on the host).</summary>
        private static unsafe nint Address(OrtValue value) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(value.GetTensorMutableRawData()));

        public void Dispose()
        {
            _binding.Dispose();
            _input.Dispose();
            foreach (OrtValue feed in _feeds) feed.Dispose();
            _output.Dispose();
            _allocator.Dispose();
        }
    }
}
