using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// Runs the model's <see cref="TailGraph"/>: batches of K×h×w activations to output rows (with the image, repeated
/// over the batch, where the tail is the whole model: <see cref="TakesImage"/>). A model whose export fixes its batch
/// size runs in runs of that size, a short last one padded with zeros (their rows dropped). Thread-safe.
/// </summary>
internal sealed class TailSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly PreparedModel _model;

    public TailSession(PreparedModel model, InferenceOptions? options = null)
    {
        _model = model;
        TakesImage = TailGraph.TakesImage(model);
        byte[] graph = TailGraph.Build(model);
        var warnings = new List<string>();
        try
        {
            (_session, Device) = OrtSessionFactory.Create(graph, options ?? new InferenceOptions(), warnings, model.ExternalDataFolder);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException($"ONNX Runtime rejected the model's part after the target layer '{model.Layer.TensorName}': {OrtRuntime.Describe(e)} " +
                "Choose another target layer, such as a block's output.", e);
        }
        Warnings = warnings;
    }

    public ExecutionDevice Device { get; }

    /// <summary>Things the user should hear about once (a CUDA fallback).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>True when the tail is the whole model and each run needs the image too (the layer is not a cut, or not N×K×h×w).</summary>
    public bool TakesImage { get; }

    /// <summary>Activations per sample: K×h×w.</summary>
    public int ActivationLength => _model.Layer.Channels * _model.Layer.Height * _model.Layer.Width;

    /// <summary>
    /// Output rows (count×OutputSize) for <paramref name="count"/> activations laid out one after another, of the input
    /// <paramref name="image"/> (C×H×W; needed where <see cref="TakesImage"/>).
    /// </summary>
    public void Run(ReadOnlyMemory<float> activations, int count, Span<float> rows, ImageTensor? image = null)
    {
        int length = ActivationLength, outputs = _model.OutputSize;
        if (count < 1 || activations.Length != (long)count * length || rows.Length != (long)count * outputs)
            throw new ArgumentException($"Expected {count}×{length} activation values and room for {count}×{outputs} output values.");
        if (TakesImage && image is null) throw new ArgumentNullException(nameof(image), "The tail is the whole model here: give the input image.");
        if (_model.FixedBatchSize is not { } batch)
        {
            RunBatch(activations, count, rows, image);
            return;
        }
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            ReadOnlyMemory<float> a = activations.Slice(start * length, n * length);
            Span<float> r = rows.Slice(start * outputs, n * outputs);
            if (n == batch) RunBatch(a, n, r, image);
            else
            {
                var padded = new float[batch * length];
                var paddedRows = new float[batch * outputs];
                a.Span.CopyTo(padded);
                RunBatch(padded, batch, paddedRows, image);
                paddedRows.AsSpan(0, r.Length).CopyTo(r);
            }
        }
    }

    private void RunBatch(ReadOnlyMemory<float> activations, int count, Span<float> rows, ImageTensor? image)
    {
        TargetLayer layer = _model.Layer;
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(activations), new long[] { count, layer.Channels, layer.Height, layer.Width });
        using OrtValue? images = TakesImage ? Repeated(image!, count) : null;
        string[] names = images is null ? new[] { TailGraph.ActivationsInput } : new[] { TailGraph.ActivationsInput, _model.Input.Name };
        OrtValue[] values = images is null ? new[] { input } : new[] { input, images };
        using var runOptions = new RunOptions();
        try
        {
            using var outputs = _session.Run(runOptions, names, values, new[] { TailGraph.Output });
            ReadOnlySpan<float> z = outputs[0].GetTensorDataAsSpan<float>();
            if (z.Length != rows.Length)
                throw new ScoreCamException($"The model's part after the target layer gave {z.Length} values for {count} input(s), not {count}×{_model.OutputSize}.");
            z.CopyTo(rows);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException($"ONNX Runtime could not run the model's part after the target layer on {count} input(s): {OrtRuntime.Describe(e)}", e);
        }
    }

    /// <summary>The image once per sample of a run.</summary>
    private static OrtValue Repeated(ImageTensor image, int count)
    {
        var data = new float[count * image.Data.Length];
        for (int i = 0; i < count; i++) image.Data.CopyTo(data, i * image.Data.Length);
        return OrtValue.CreateTensorValueFromMemory(data, image.Shape(count));
    }

    public void Dispose() => _session.Dispose();
}
