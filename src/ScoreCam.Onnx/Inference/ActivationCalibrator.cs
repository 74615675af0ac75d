using System.Numerics.Tensors;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// Calibrates the int8 copy of a model: a float32 session of the prepared model with every tensor the copy quantizes
/// exposed as an output runs the calibration pictures and their masked samples, and the ranges follow from the values
/// by <see cref="CalibrationMethod"/>. Owns its session; thread-safe.
/// </summary>
internal sealed class ActivationCalibrator : IDisposable
{
    private const int Bins = 2048;
    private readonly PreparedModel _model;
    private readonly Int8Options _options;
    private readonly InferenceSession _session;
    private readonly string[] _inputNames, _outputNames;
    private readonly OrtValue[] _feeds;
    // A model whose export fixes the batch size runs that many copies of each input (ranges and shares are unchanged).
    private readonly int _batch;

    public ActivationCalibrator(PreparedModel model, Int8Options options, InferenceOptions inference)
    {
        (_model, _options) = (model, options);
        Tensors = Int8Model.CalibratedTensors(model);
        var probe = model.Proto.Clone();
        var existing = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string t in Tensors.Where(t => !existing.Contains(t))) probe.Graph.Output.Add(TensorShapeProbe.FloatOutput(t));
        using SessionOptions sessionOptions = OrtRuntime.Options(model.ExternalDataFolder);
        sessionOptions.IntraOpNumThreads = inference.IntraOpThreads;
        try
        {
            _session = new InferenceSession(probe.ToByteArray(), sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException($"ONNX Runtime cannot load the calibration copy of model '{model.Source}': {OrtRuntime.Describe(e)}", e);
        }
        _inputNames = model.FedInputs.Select(f => f.Name).Prepend(model.Input.Name).ToArray();
        _outputNames = Tensors.Append(model.Layer.MapsTensor).Distinct().ToArray();
        _batch = model.FixedBatchSize ?? 1;
        _feeds = model.FedInputs.Select(f => OrtValue.CreateTensorValueFromMemory(f.Broadcast(_batch), f.Shape(_batch))).ToArray();
    }

    /// <summary>The tensors calibrated, in graph order.</summary>
    public IReadOnlyList<string> Tensors { get; }

    /// <summary>Ranges of <see cref="Tensors"/> over <paramref name="pictures"/> and each picture's masked samples.</summary>
    public Dictionary<string, ActivationRange> Calibrate(IReadOnlyList<ImageTensor> pictures, CancellationToken cancellationToken = default)
    {
        var inputs = new List<ImageTensor>();
        var min = new float[Tensors.Count];
        var max = new float[Tensors.Count];
        Array.Fill(min, float.PositiveInfinity);
        Array.Fill(max, float.NegativeInfinity);
        void MinMax(float[][] values)
        {
            for (int t = 0; t < values.Length; t++)
            {
                if (values[t].Length == 0) continue;
                min[t] = MathF.Min(min[t], TensorPrimitives.Min(values[t]));
                max[t] = MathF.Max(max[t], TensorPrimitives.Max(values[t]));
            }
        }
        foreach (ImageTensor picture in pictures)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (values, activations, shape) = Run(picture);
            MinMax(values);
            inputs.Add(picture);
            foreach (ImageTensor masked in MaskedSamples(picture, activations, shape))
            {
                cancellationToken.ThrowIfCancellationRequested();
                MinMax(Run(masked).Values);
                inputs.Add(masked);
            }
        }
        var ranges = new Dictionary<string, ActivationRange>(StringComparer.Ordinal);
        if (_options.Method == CalibrationMethod.MinMax)
        {
            for (int t = 0; t < Tensors.Count; t++) ranges[Tensors[t]] = new ActivationRange(min[t], max[t]);
            return ranges;
        }

        // Percentile: a second pass fills histograms over ±(largest magnitude), whose bounds the first pass found.
        var bound = new float[Tensors.Count];
        for (int t = 0; t < bound.Length; t++) bound[t] = MathF.Max(MathF.Abs(min[t]), MathF.Abs(max[t]));
        var histograms = new long[Tensors.Count][];
        for (int t = 0; t < histograms.Length; t++) histograms[t] = new long[Bins];
        foreach (ImageTensor input in inputs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            float[][] values = Run(input).Values;
            for (int t = 0; t < values.Length; t++) Count(values[t], bound[t], histograms[t]);
        }
        for (int t = 0; t < Tensors.Count; t++) ranges[Tensors[t]] = PercentileRange(histograms[t], bound[t], _options.Percentile);
        return ranges;
    }

    /// <summary>ONNX Runtime's percentile rule: the bin edges where the cumulative share first reaches (100 − p) / 200 and 1 − that.</summary>
    internal static ActivationRange PercentileRange(long[] histogram, float bound, double percentile)
    {
        if (bound == 0) return new ActivationRange(0, 0);
        double total = histogram.Sum(), cut = (100.0 - percentile) / 200.0, cumulative = 0;
        int left = -1, right = histogram.Length - 1;
        for (int i = 0; i < histogram.Length; i++)
        {
            cumulative += histogram[i] / total;
            if (left < 0 && cumulative >= cut) left = i;
            if (cumulative >= 1.0 - cut)
            {
                right = i;
                break;
            }
        }
        float Edge(int i) => -bound + i * (2 * bound / histogram.Length);
        return new ActivationRange(Edge(Math.Max(left, 0)), Edge(right));
    }

    private static void Count(ReadOnlySpan<float> values, float bound, long[] histogram)
    {
        if (bound == 0)
        {
            histogram[histogram.Length / 2] += values.Length;
            return;
        }
        float perBin = histogram.Length / (2 * bound);
        int last = histogram.Length - 1;
        foreach (float v in values) histogram[Math.Clamp((int)((v + bound) * perBin), 0, last)]++;
    }

    /// <summary>The picture times the normalized, upsampled maps of evenly spaced non-constant channels (Score-CAM eq. 1-2).</summary>
    private IEnumerable<ImageTensor> MaskedSamples(ImageTensor picture, float[] activations, long[] shape)
    {
        if (_options.MaskedSamples == 0 || shape.Length != 4) yield break;
        int k = (int)shape[1], h = (int)shape[2], w = (int)shape[3], plane = picture.Height * picture.Width;
        var upsampler = new BilinearUpsampler(h, w, picture.Height, picture.Width);
        var mask = new float[plane];
        var scratch = new float[upsampler.ScratchLength];
        int samples = Math.Min(_options.MaskedSamples, k);
        for (int s = 0, channel = 0; s < samples; s++)
        {
            channel = Math.Max(channel, (int)((s + 0.5) * k / samples));
            for (; channel < k; channel++)
            {
                upsampler.Upsample(activations.AsSpan(channel * h * w, h * w), mask, scratch);
                if (MapKernels.TryMinMaxNormalize(mask)) break;
            }
            if (channel == k) yield break;
            var masked = new float[picture.Data.Length];
            MapKernels.ApplyMask(picture.Data, mask, masked);
            yield return new ImageTensor(masked, picture.Channels, picture.Height, picture.Width);
            channel++;
        }
    }

    private (float[][] Values, float[] Activations, long[] ActivationShape) Run(ImageTensor image)
    {
        float[] data = image.Data;
        if (_batch > 1)
        {
            data = new float[_batch * image.Data.Length];
            for (int i = 0; i < _batch; i++) image.Data.CopyTo(data, i * image.Data.Length);
        }
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(), image.Shape(_batch));
        using var runOptions = new RunOptions();
        try
        {
            using var outputs = _session.Run(runOptions, _inputNames, _feeds.Prepend(input).ToArray(), _outputNames);
            var values = new float[Tensors.Count][];
            for (int t = 0; t < values.Length; t++) values[t] = outputs[t].GetTensorDataAsSpan<float>().ToArray();
            int at = Array.IndexOf(_outputNames, _model.Layer.MapsTensor);
            long[] shape = outputs[at].GetTensorTypeAndShape().Shape;
            var activations = outputs[at].GetTensorDataAsSpan<float>();
            return (values, activations[..(activations.Length / _batch)].ToArray(), shape);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException($"ONNX Runtime rejected a calibration input of model '{_model.Source}': {OrtRuntime.Describe(e)}", e);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        foreach (OrtValue feed in _feeds) feed.Dispose();
    }
}
