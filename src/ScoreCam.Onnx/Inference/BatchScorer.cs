using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// A reusable batch of model inputs and score outputs over pooled, pinned memory, bound once to ONNX Runtime
/// values: full batches run with no managed allocation. Callers fill <see cref="Input"/> slots, call
/// <see cref="Run"/>, and read <see cref="Scores"/>. Not thread-safe; use one per concurrent pipeline stage.
/// </summary>
public sealed class BatchScorer : IDisposable
{
    private readonly ModelSession _session;
    private readonly ImageTensor _template;
    private readonly float[] _input, _output;
    private readonly int _imageLength, _rowLength;
    private readonly OrtValue _fullInput, _fullOutput;
    private readonly OrtValue[] _inputs, _outputs;
    private readonly RunOptions _runOptions = new();

    public BatchScorer(ModelSession session, ImageTensor template, int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "Batch capacity must be at least 1.");
        (_session, _template) = (session, template);
        Capacity = Math.Min(capacity, session.MaxBatch);
        _imageLength = template.Data.Length;
        _rowLength = session.Model.OutputSize;
        _input = ArrayPool<float>.Shared.Rent(Capacity * _imageLength);
        _output = ArrayPool<float>.Shared.Rent(Capacity * _rowLength);
        _fullInput = InputValue(Capacity);
        _fullOutput = OutputValue(Capacity);
        _inputs = new[] { _fullInput };
        _outputs = new[] { _fullOutput };
    }

    public int Capacity { get; }

    /// <summary>Where image <paramref name="slot"/> of the batch is written (C×H×W floats).</summary>
    public Span<float> Input(int slot) => _input.AsSpan(slot * _imageLength, _imageLength);

    /// <summary>The output row of image <paramref name="slot"/> after <see cref="Run"/>.</summary>
    public ReadOnlySpan<float> Scores(int slot) => _output.AsSpan(slot * _rowLength, _rowLength);

    /// <summary>Runs the first <paramref name="count"/> slots through the model.</summary>
    public void Run(int count)
    {
        if (count < 1 || count > Capacity) throw new ArgumentOutOfRangeException(nameof(count));
        if (count == Capacity)
        {
            _session.RunScores(_runOptions, _inputs, _outputs, _template);
            return;
        }
        // A last, partial batch: values over the leading slots (a few small objects, once per explanation).
        using OrtValue input = InputValue(count), output = OutputValue(count);
        _session.RunScores(_runOptions, new[] { input }, new[] { output }, _template);
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
        _fullInput.Dispose();
        _fullOutput.Dispose();
        _runOptions.Dispose();
        ArrayPool<float>.Shared.Return(_input);
        ArrayPool<float>.Shared.Return(_output);
    }
}
