using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// The ONNX Runtime session of a gradient graph: of the head (<see cref="GradientGraph"/>: activations A, N×K×h×w)
/// or of the whole model (<see cref="InputGradientGraph"/>: the input x, N×C×H×W). For sources and seeds (N×OutputSize)
/// it returns the logits and d Σ(seed ⊙ logits) / d source. The model's fed inputs (<see cref="PreparedModel.FedInputs"/>)
/// that the graph reads go with every run, their row repeated over the run's samples. The graph of a model whose export
/// fixes its batch size runs that many samples at a time: more are run in turn, fewer padded with zero sources and seeds
/// whose rows are dropped. Owns its native session; thread-safe.
/// </summary>
public sealed class GradientSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputs, _outputs;
    private readonly FedInput[] _fed;
    // Samples per run of a graph made for a fixed batch size (its metadata), else null: any number in one run.
    private readonly int? _batch;
    // One sample of the source: Channels×Height×Width, or the image for a graph that holds the layer as a leaf.
    private readonly long[] _source;

    /// <summary>Runs the model's head gradient graph: NAME.grad.onnx next to the model when present, else built in memory.</summary>
    public GradientSession(PreparedModel model, InferenceOptions? options = null)
        : this(GradientGraph.Load(model), model.Layer.Channels, model.Layer.Height, model.Layer.Width, model.OutputSize, model.FedInputs, options,
            model.ExternalDataFolder)
    {
    }

    /// <summary>
    /// Runs a serialized gradient graph (head or input) whose source is <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>
    /// per sample and whose logits have <paramref name="outputSize"/> values; weights it keeps as external data are read
    /// from <paramref name="externalDataFolder"/> (<see cref="PreparedModel.ExternalDataFolder"/>).
    /// </summary>
    public GradientSession(byte[] gradientGraph, int channels, int height, int width, int outputSize, InferenceOptions? options = null,
        string? externalDataFolder = null)
        : this(gradientGraph, channels, height, width, outputSize, Array.Empty<FedInput>(), options, externalDataFolder)
    {
    }

    /// <summary>A serialized gradient graph that may also read <paramref name="fed"/> (by name), given with every run.</summary>
    internal GradientSession(byte[] gradientGraph, int channels, int height, int width, int outputSize, IReadOnlyList<FedInput> fed,
        InferenceOptions? options, string? externalDataFolder)
    {
        (Channels, Height, Width, OutputSize) = (channels, height, width, outputSize);
        var warnings = new List<string>();
        try
        {
            (_session, Device) = OrtSessionFactory.Create(gradientGraph, options ?? new InferenceOptions(), warnings, externalDataFolder);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException($"ONNX Runtime rejected the gradient graph: {OrtRuntime.Describe(e)} Delete the saved gradient graph (NAME.*grad.onnx) and prepare the model again.", e);
        }
        Warnings = warnings;
        // Inputs: the source, the seed and any of the fed inputs; outputs: the logits and the gradient.
        _fed = fed.Where(f => _session.InputNames.Contains(f.Name)).ToArray();
        var sources = _session.InputNames.Where(n => n != GraphDifferentiator.SeedInput && _fed.All(f => f.Name != n)).ToList();
        string gradient = _session.OutputNames.FirstOrDefault(n => n != GraphDifferentiator.LogitsOutput) ?? "";
        if (sources.Count != 1 || !_session.InputNames.Contains(GraphDifferentiator.SeedInput) ||
            _session.OutputNames.Count != 2 || !_session.OutputNames.Contains(GraphDifferentiator.LogitsOutput))
        {
            string inputs = string.Join(", ", _session.InputNames), outputs = string.Join(", ", _session.OutputNames);
            string feeds = fed.Count == 0 ? "none" : string.Join(", ", fed.Select(f => f.Name));
            _session.Dispose();
            throw new ScoreCamException(
                $"The gradient graph takes the inputs ({inputs}) and gives the outputs ({outputs}); one made by ScoreCam.Onnx " +
                $"takes a source, '{GraphDifferentiator.SeedInput}' and some of the model's fed inputs (here: {feeds}), and gives '{GraphDifferentiator.LogitsOutput}' " +
                "and a gradient. Delete the saved gradient graph (NAME.*grad.onnx) and prepare the model again (with its feeds).");
        }
        _inputs = new[] { sources[0], GraphDifferentiator.SeedInput }.Concat(_fed.Select(f => f.Name)).ToArray();
        TakesImage = _session.ModelMetadata.CustomMetadataMap.ContainsKey(GraphDifferentiator.LeafKey);
        int[] declared = _session.InputMetadata[sources[0]].Dimensions;
        _source = TakesImage && declared.Length > 1 && declared.Skip(1).All(d => d > 0)
            ? declared.Skip(1).Select(d => (long)d).ToArray() : new long[] { channels, height, width };
        _outputs = new[] { GraphDifferentiator.LogitsOutput, gradient };
        if (_session.ModelMetadata.CustomMetadataMap.TryGetValue(GraphDifferentiator.BatchKey, out string? batch))
        {
            if (!int.TryParse(batch, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int b) || b < 1)
            {
                _session.Dispose();
                throw new ScoreCamException(
                    $"The gradient graph records the batch size '{batch}' ('{GraphDifferentiator.BatchKey}' in its metadata), not a positive number. " +
                    "Delete the saved gradient graph (NAME.*grad.onnx) and prepare the model again.");
            }
            _batch = b;
        }
        if (PreSoftmax && _session.ModelMetadata.CustomMetadataMap.TryGetValue(GraphDifferentiator.SoftmaxRefusalKey, out string? refusal))
            Softmax = SoftmaxAxis.Refused(refusal);
        else if (PreSoftmax)
        {
            if (!(_session.ModelMetadata.CustomMetadataMap.TryGetValue(GraphDifferentiator.SoftmaxAxisKey, out string? axis) &&
                  axis.Split(',') is [var length, var inner] && int.TryParse(length, out int l) && int.TryParse(inner, out int i) && l > 0 && i > 0 &&
                  outputSize % (l * i) == 0))
            {
                _session.Dispose();
                throw new ScoreCamException(
                    $"The gradient graph's logits feed a Softmax, but it does not record how that Softmax groups the {outputSize} outputs " +
                    $"('{GraphDifferentiator.SoftmaxAxisKey}' in its metadata). Delete the saved gradient graph (NAME.*grad.onnx) and prepare the model again.");
            }
            Softmax = new SoftmaxAxis(l, i);
        }
    }

    /// <summary>
    /// True for a head gradient graph that runs the whole model from the image (the layer held as a leaf): its source is
    /// the image (C×H×W), its gradient the layer's maps (Channels×Height×Width).
    /// </summary>
    internal bool TakesImage { get; }

    /// <summary>Values of one sample of the source: Channels×Height×Width, or the image's for <see cref="TakesImage"/>.</summary>
    internal int SourceLength => (int)_source.Aggregate(1L, (a, d) => a * d);

    /// <summary>The head's gradients: dY/dA at the target layer (the Grad-CAM family).</summary>
    public static GradientSession ForHead(PreparedModel model, InferenceOptions? options = null) => new(model, options);

    /// <summary>
    /// The input's gradients dY/dx for <paramref name="height"/>×<paramref name="width"/> inputs: NAME.input-grad.onnx
    /// (NAME.guided-grad.onnx with <paramref name="guided"/>, Guided Backpropagation) when present and made for the same
    /// size, else built in memory.
    /// </summary>
    public static GradientSession ForInput(PreparedModel model, int height, int width, bool guided, InferenceOptions? options = null) =>
        new(InputGradientGraph.Load(model, height, width, guided), model.Input.Channels, height, width, model.OutputSize, model.FedInputs, options,
            model.ExternalDataFolder);

    /// <summary>True when the model outputs probabilities and the graph's logits are their pre-softmax scores (the Softmax's input, selected as the output selects).</summary>
    public bool PreSoftmax => _session.ModelMetadata.CustomMetadataMap.TryGetValue(GraphDifferentiator.PreSoftmaxKey, out string? v) && v == "true";

    /// <summary>
    /// When <see cref="PreSoftmax"/>, how the Softmax after the logits groups an output row (refused where the row
    /// keeps only part of its groups); else null.
    /// </summary>
    internal SoftmaxAxis? Softmax { get; }

    /// <summary>The device the session actually runs on (CPU after a CUDA fallback).</summary>
    public ExecutionDevice Device { get; }

    /// <summary>Things the user should hear about once (a CUDA fallback).</summary>
    public IReadOnlyList<string> Warnings { get; }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int OutputSize { get; }

    /// <summary>
    /// Logits (count×OutputSize) and gradients (count×Channels×Height×Width) for <paramref name="count"/> source tensors
    /// laid out one after another in <paramref name="inputs"/>, with one seed row each in <paramref name="seeds"/>.
    /// </summary>
    public (float[] Logits, float[] Gradients) Run(ReadOnlyMemory<float> inputs, ReadOnlyMemory<float> seeds, int count = 1)
    {
        CheckInputs(inputs, seeds, count);
        var logits = new float[(long)count * OutputSize];
        var gradients = new float[(long)count * Channels * Height * Width];
        Run(inputs, seeds, logits, gradients, count);
        return (logits, gradients);
    }

    /// <summary>
    /// As <see cref="Run(ReadOnlyMemory{float}, ReadOnlyMemory{float}, int)"/>, writing the logits (count×OutputSize)
    /// and gradients (count×Channels×Height×Width) into the caller's buffers, so that a caller running many batches
    /// reuses them instead of allocating two arrays per run.
    /// </summary>
    public void Run(ReadOnlyMemory<float> inputs, ReadOnlyMemory<float> seeds, Span<float> logits, Span<float> gradients, int count = 1)
    {
        CheckInputs(inputs, seeds, count);
        long plane = (long)Channels * Height * Width;
        if (logits.Length != (long)count * OutputSize)
            throw new ArgumentException($"Expected room for {count}×{OutputSize} logits; got {logits.Length}.", nameof(logits));
        if (gradients.Length != count * plane)
            throw new ArgumentException($"Expected room for {count}×{Channels}×{Height}×{Width} gradient values; got {gradients.Length}.", nameof(gradients));
        if (_batch is not { } batch)
        {
            RunBatch(inputs, seeds, logits, gradients, count);
            return;
        }
        int size = (int)plane, source = SourceLength, rows = OutputSize;
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            ReadOnlyMemory<float> x = inputs.Slice(start * source, n * source), seed = seeds.Slice(start * rows, n * rows);
            Span<float> z = logits.Slice(start * rows, n * rows), g = gradients.Slice(start * size, n * size);
            if (n == batch) RunBatch(x, seed, z, g, n);
            else RunPadded(x, seed, z, g, n, batch);
        }
    }

    /// <summary>Runs <paramref name="count"/> samples in a run of <paramref name="batch"/>: zero sources and seeds fill it, their rows dropped.</summary>
    private void RunPadded(ReadOnlyMemory<float> inputs, ReadOnlyMemory<float> seeds, Span<float> logits, Span<float> gradients, int count, int batch)
    {
        var x = new float[batch * (inputs.Length / count)];
        var seed = new float[batch * OutputSize];
        inputs.Span.CopyTo(x);
        seeds.Span.CopyTo(seed);
        var z = new float[seed.Length];
        var g = new float[batch * (gradients.Length / count)];
        RunBatch(x, seed, z, g, batch);
        z.AsSpan(0, logits.Length).CopyTo(logits);
        g.AsSpan(0, gradients.Length).CopyTo(gradients);
    }

    private void RunBatch(ReadOnlyMemory<float> inputs, ReadOnlyMemory<float> seeds, Span<float> logits, Span<float> gradients, int count)
    {
        using var a = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, AsWritable(inputs), _source.Prepend(count).ToArray());
        using var s = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, AsWritable(seeds), new long[] { count, OutputSize });
        var values = new OrtValue[2 + _fed.Length];
        (values[0], values[1]) = (a, s);
        for (int i = 0; i < _fed.Length; i++)
            values[2 + i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _fed[i].Repeated(count), _fed[i].Shape(count));
        using var runOptions = new RunOptions();
        try
        {
            // The outputs come from ONNX Runtime's arena, reused from run to run; copying them out is small next to the
            // pass and leaves the logits in the model's output shape (not always count×OutputSize).
            using var outputs = _session.Run(runOptions, _inputs, values, _outputs);
            ReadOnlySpan<float> z = outputs[0].GetTensorDataAsSpan<float>(), g = outputs[1].GetTensorDataAsSpan<float>();
            if (z.Length != logits.Length || g.Length != gradients.Length)
                throw new ScoreCamException(
                    $"The gradient graph gave {z.Length} logits and {g.Length} gradient values for {count} input(s), not {count}×{OutputSize} and {count}×{Channels}×{Height}×{Width}.");
            z.CopyTo(logits);
            g.CopyTo(gradients);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException(
                $"ONNX Runtime could not run the gradient graph on {count} input(s) of {Channels}×{Height}×{Width}: {OrtRuntime.Describe(e)} " +
                "A graph of a model whose export fixes its batch size records that size in its metadata; build the graph again from the prepared model.", e);
        }
        finally
        {
            for (int i = 2; i < values.Length; i++) values[i].Dispose();
        }
    }

    private void CheckInputs(ReadOnlyMemory<float> inputs, ReadOnlyMemory<float> seeds, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"At least one sample is needed; got {count}.");
        if (inputs.Length != (long)count * SourceLength)
            throw new ArgumentException($"Expected {count}×{string.Join('×', _source)} input values; got {inputs.Length}.", nameof(inputs));
        if (seeds.Length != (long)count * OutputSize)
            throw new ArgumentException($"Expected {count}×{OutputSize} seed values; got {seeds.Length}.", nameof(seeds));
    }

    // ORT reads inputs only; its API takes Memory<T>.
    private static Memory<float> AsWritable(ReadOnlyMemory<float> memory) => System.Runtime.InteropServices.MemoryMarshal.AsMemory(memory);

    public void Dispose() => _session.Dispose();
}
